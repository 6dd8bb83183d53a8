import base64
import html
import re

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from posture.models import Cluster, ConnectionMode
from posture.scanning.collectors.resources import OPTIONAL_GROUPS, RESOURCE_TYPES
from tests.factories import make_cluster
from tests.fakekube import FakeKube
from tests.live.cluster import fixture_objects
from tests.ui.conftest import htmx

CREATE = reverse("posture:cluster-create")
TEST = reverse("posture:cluster-test-connection")
TOKEN = "abc.def-token-never-shown"


def kubeconfig(server="https://203.0.113.10:6443", token=TOKEN, context="prod") -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": context,
            "clusters": [{"name": "c", "cluster": {"server": server}}],
            "users": [{"name": "u", "user": {"token": token}}],
            "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
        }
    )


def register_kubeconfig(client, team, content: bytes, **fields):
    """Register cluster "k" of ``team`` from an uploaded kubeconfig file."""
    upload = SimpleUploadedFile("config", content)
    data = {"name": "k", "team": team.pk, "connection_mode": "kubeconfig", "kubeconfig_file": upload}
    return client.post(CREATE, {**data, **fields})


@pytest.fixture
def kube():
    server = FakeKube(fixture_objects()).start()
    yield server
    server.stop()


def test_an_admin_registers_a_token_cluster_and_the_token_is_never_shown_again(client, team, admin_user):
    client.force_login(admin_user)
    response = client.post(
        CREATE,
        {
            "name": "prod-us",
            "team": team.pk,
            "connection_mode": "token",
            "api_url": "https://203.0.113.10:6443",
            "token": TOKEN,
            # Nothing answers there (tests/ui/test_saving_tries_the_connection.py).
            "without_connection": "on",
        },
    )
    cluster = Cluster.objects.get(name="prod-us")
    assert response.status_code == 302
    assert cluster.get_credentials() == TOKEN
    edit = client.get(reverse("posture:cluster-edit", args=[cluster.pk])).text
    assert TOKEN not in edit
    assert cluster.credentials_encrypted not in edit
    assert 'placeholder="stored — leave empty to keep"' in edit
    detail = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    assert TOKEN not in detail
    assert "credentials stored" in detail


def test_saving_with_the_credential_left_empty_keeps_the_stored_one(client, team, admin_user):
    cluster = make_cluster(
        team, name="prod-us", connection_mode=ConnectionMode.TOKEN, api_url="https://203.0.113.10"
    )
    Cluster.objects.filter(pk=cluster.pk).update(credentials_encrypted=cluster.credentials_encrypted)
    from posture import services

    services.save_cluster(cluster, credentials=TOKEN)
    client.force_login(admin_user)
    response = client.post(
        reverse("posture:cluster-edit", args=[cluster.pk]),
        {
            "name": "prod-us",
            "team": team.pk,
            "connection_mode": "token",
            "api_url": "https://203.0.113.10",
            "token": "",
            "scan_interval_minutes": 30,
        },
    )
    assert response.status_code == 302
    cluster.refresh_from_db()
    assert cluster.get_credentials() == TOKEN
    assert cluster.scan_interval_minutes == 30
    # A new address is another matter: tests/posture/test_stored_credentials_stay_put.py


def test_a_token_cluster_needs_a_token_and_a_url(client, team, admin_user):
    client.force_login(admin_user)
    response = client.post(CREATE, {"name": "x", "team": team.pk, "connection_mode": "token"})
    assert "Give the bearer token Rampart reads the cluster with." in response.text
    response = client.post(CREATE, {"name": "x", "team": team.pk, "connection_mode": "token", "token": TOKEN})
    assert "The API URL is missing." in response.text
    assert not Cluster.objects.filter(name="x").exists()


def test_a_name_already_used_in_the_team_is_refused_under_the_name_field(client, team, admin_user):
    make_cluster(team, name="prod-eu")
    client.force_login(admin_user)
    response = client.post(CREATE, {"name": "Prod-EU", "team": team.pk, "connection_mode": "snapshot"})
    assert response.status_code == 200
    name_field = response.text.split('<label for="id_name">')[1].split("</div>")[0]
    assert 'aria-invalid="true" aria-describedby="id_name_error"' in name_field
    # What the field says it is described by exists: a screen reader reads the refusal with it.
    assert (
        '<div id="id_name_error"><p class="error" role="alert">This team already has a cluster of this name.'
        in name_field
    )
    assert Cluster.objects.filter(name__iexact="prod-eu").count() == 1


def test_an_unknown_context_is_refused_listing_the_contexts_once(client, team, admin_user):
    client.force_login(admin_user)
    config = yaml.safe_load(kubeconfig())
    config["contexts"].append({"name": "staging", "context": {"cluster": "c", "user": "u"}})
    response = register_kubeconfig(client, team, yaml.safe_dump(config).encode(), kube_context="nosuch")
    text = html.unescape(response.text)
    assert "The kubeconfig has no context named 'nosuch' (it has: 'prod', 'staging')." in text
    assert text.count("staging") == 1


def test_an_uploaded_kubeconfig_is_validated_with_a_clear_message(client, team, admin_user):
    client.force_login(admin_user)
    response = register_kubeconfig(client, team, b"apiVersion: v1\nkind: Config\nclusters: []\n")
    assert "The kubeconfig defines no clusters." in response.text
    response = register_kubeconfig(client, team, kubeconfig().encode(), kube_context="staging")
    assert "(it has: &#x27;prod&#x27;)" in response.text
    response = register_kubeconfig(client, team, kubeconfig().encode(), without_connection="on")
    assert response.status_code == 302
    assert Cluster.objects.get(name="k").get_credentials() == kubeconfig()


def test_a_kubeconfig_that_runs_commands_is_refused(client, team, admin_user):
    config = yaml.safe_load(kubeconfig())
    config["users"][0]["user"] = {"exec": {"command": "aws", "apiVersion": "client.authentication.k8s.io/v1"}}
    client.force_login(admin_user)
    response = client.post(
        CREATE,
        {
            "name": "k",
            "team": team.pk,
            "connection_mode": "kubeconfig",
            "kubeconfig_text": yaml.safe_dump(config),
        },
    )
    assert response.status_code == 200
    assert 'class="error" role="alert"' in response.text
    assert not Cluster.objects.filter(name="k").exists()


def test_a_schedule_is_an_interval_or_a_valid_cron_not_both(client, team, admin_user):
    client.force_login(admin_user)
    base = {"name": "s", "team": team.pk, "connection_mode": "snapshot"}
    response = client.post(CREATE, {**base, "scan_interval_minutes": 60, "scan_cron": "0 3 * * *"})
    assert "Give either an interval or a cron expression, not both." in response.text
    response = client.post(CREATE, {**base, "scan_interval_minutes": 100_000_000})
    assert "Ensure this value is less than or equal to 527040." in response.text  # a year at most
    response = client.post(CREATE, {**base, "scan_cron": "0 25 * * *"})
    assert "Not a valid schedule: hour &#x27;25&#x27; is not valid." in response.text
    response = client.post(CREATE, {**base, "scan_cron": "0  3 * * 1-5"})
    assert response.status_code == 302
    assert Cluster.objects.get(name="s").scan_cron == "0 3 * * 1-5"


def test_a_scan_interval_below_the_minimum_is_refused_naming_the_minimum(client, team, admin_user):
    client.force_login(admin_user)
    form = client.get(CREATE).text
    assert 'name="scan_interval_minutes" min="5"' in form  # a browser refuses -5 and 1 alike
    assert "Scan automatically this often (5 minutes or more); empty means only on demand." in form
    said = "Scans are at least 5 minutes apart: give 5 or more, or leave it empty."
    base = {"name": "s", "team": team.pk, "connection_mode": "snapshot"}
    for too_often in (-5, 0, 1, 4):
        response = client.post(CREATE, {**base, "scan_interval_minutes": too_often})
        assert said in response.text, too_often
        assert "greater than or equal to" not in response.text
    assert not Cluster.objects.filter(name="s").exists()
    assert client.post(CREATE, {**base, "scan_interval_minutes": 5}).status_code == 302


def test_checks_can_be_switched_off_per_cluster(client, team, admin_user):
    client.force_login(admin_user)
    client.post(
        CREATE,
        {
            "name": "quiet",
            "team": team.pk,
            "connection_mode": "snapshot",
            "disabled_checks": ["privileged-container"],
        },
    )
    assert Cluster.objects.get(name="quiet").check_settings["disabled"] == ["privileged-container"]


def test_severity_overrides_and_options_are_set_per_cluster_and_shown_again(client, team, admin_user):
    client.force_login(admin_user)
    client.post(
        CREATE,
        {
            "name": "tuned",
            "team": team.pk,
            "connection_mode": "snapshot",
            "severity_overrides": "latest-tag: LOW\n\nprivileged-container : medium",
            "option_secret_max_age_days": "30",
            "option_trusted_registries": "registry.example.com\n  ghcr.io/acme  \n",
            "option_extra_database_ports": "7000\n7001",
        },
    )
    cluster = Cluster.objects.get(name="tuned")
    assert cluster.check_settings == {
        "severity": {"latest-tag": "low", "privileged-container": "medium"},
        "options": {
            "secret_max_age_days": 30,
            "trusted_registries": ["registry.example.com", "ghcr.io/acme"],
            "extra_database_ports": [7000, 7001],
        },
    }
    edit = client.get(reverse("posture:cluster-edit", args=[cluster.pk])).text
    assert '<details class="fieldset-details" open>' in edit
    assert "latest-tag: low\nprivileged-container: medium</textarea>" in edit
    assert "registry.example.com\nghcr.io/acme</textarea>" in edit


def test_mistakes_in_check_settings_are_named_under_their_field(client, team, admin_user):
    client.force_login(admin_user)
    typo = {"name": "typo", "team": team.pk, "connection_mode": "snapshot"}
    ports = {"option_extra_database_ports": "7000\nseven"}
    response = client.post(
        CREATE, {**typo, **ports, "severity_overrides": "latest-tag: urgent\nno-such-check: low\njust words"}
    )
    assert "Write one “check-id: level” per line (line 3)." in response.text
    response = client.post(
        CREATE, {**typo, **ports, "severity_overrides": "latest-tag: urgent\nno-such-check: low"}
    )
    page = response.text
    assert "latest-tag: &#x27;urgent&#x27; is not a severity" in page
    assert "No check is called no-such-check." in page
    assert (
        "&#x27;seven&#x27; is not a port number (1-65535)."
        in page.split('id="id_option_extra_database_ports_error"')[1]
    )
    assert not Cluster.objects.filter(name="typo").exists()


@pytest.mark.parametrize(
    "hidden",
    [
        "\u202e",  # right-to-left override: "\u202emoc.evil" displays as "live.com"
        "\u2066",  # left-to-right isolate
        "\u200b",  # zero-width space
        "\u00ad",  # soft hyphen
        "\x1b",  # escape (terminal colours in a log reader)
    ],
)
def test_names_with_invisible_characters_are_refused_on_the_page_and_over_the_api(
    client, team, admin_user, hidden
):
    client.force_login(admin_user)
    disguised = f"ghcr.io/acme{hidden}x"
    response = client.post(
        CREATE,
        {
            "name": "disguised",
            "team": team.pk,
            "connection_mode": "snapshot",
            "option_trusted_registries": f"registry.example.com\n{disguised}",
        },
    )
    error = html.unescape(response.text.split('id="id_option_trusted_registries_error"')[1][:400])
    assert f"{disguised!r} is not a name (no spaces or invisible characters" in error
    assert not Cluster.objects.filter(name="disguised").exists()

    cluster = make_cluster(team, name="tuned")
    answer = client.patch(
        f"/api/v1/clusters/{cluster.pk}/",
        {"check_settings": {"options": {"pod_security_exempt_namespaces": [f"prod{hidden}"]}}},
        content_type="application/json",
    )
    assert answer.status_code == 400, answer.content
    assert "pod_security_exempt_namespaces" in answer.json()["error"]["fields"]["check_settings"]
    cluster.refresh_from_db()
    assert cluster.check_settings == {}


def test_test_connection_says_which_kubeconfig_context_it_used(client, team, admin_user, kube):
    """With the context left empty, the kubeconfig's current-context is used: the report says which."""
    document = yaml.safe_load(kubeconfig(server=kube.url, token=kube.token, context="staging"))
    document["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(
        kube.ca_pem.encode()
    ).decode()
    document["contexts"].append({"name": "prod", "context": {"cluster": "c", "user": "u"}})
    client.force_login(admin_user)
    sent = {"connection_mode": "kubeconfig", "kubeconfig_text": yaml.safe_dump(document)}
    response = client.post(TEST, sent, **htmx())
    assert "<strong>Connected</strong>" in response.text
    assert "through the kubeconfig context &#x27;staging&#x27;" in response.text
    response = client.post(TEST, {**sent, "kube_context": "prod"}, **htmx())
    assert "through the kubeconfig context &#x27;prod&#x27;" in response.text


def test_test_connection_reports_what_a_token_can_read(client, team, admin_user, kube):
    client.force_login(admin_user)
    response = client.post(
        TEST,
        {
            "connection_mode": "token",
            "api_url": kube.url,
            "token": kube.token,
            "ca_bundle": kube.ca_pem if kube.tls else "",
        },
        **htmx(),
    )
    assert response.text.lstrip().startswith('<div id="connection-report"')
    assert "<strong>Connected</strong>" in response.text
    assert "Rampart can read" in response.text
    assert " 0.0 s" not in response.text  # a fast answer shows hundredths
    # The types the cluster does not serve are named, as many as counted; a kind two groups share
    # is named with its group.
    missing = re.search(
        r"; (\d+) belong to API groups this cluster does not have \((.*?)\), which is fine", response.text
    )
    names = missing.group(2).split(", ")
    optional_types = [rtype for rtype in RESOURCE_TYPES if rtype.group in OPTIONAL_GROUPS]
    assert int(missing.group(1)) == len(names) == len(set(names)) == len(optional_types)
    assert "HTTPRoute" in names
    assert "Middleware (traefik.io)" in names
    assert "Middleware (traefik.containo.us)" in names


def test_on_a_slow_server_test_connection_separates_not_tried_from_unreadable(
    client, team, admin_user, monkeypatch
):
    from functools import partial

    from posture.scanning.collectors import live

    # A server that answers Deployments after the test's time is up: what follows is not tried.
    monkeypatch.setattr(live, "test_connection", partial(live.test_connection, deadline=2))
    kube = FakeKube(
        fixture_objects(),
        forbidden={"nodes"},
        crd_groups={"external-secrets.io"},
        delays={"/apis/apps/v1/deployments": 2.5},
    ).start()
    try:
        client.force_login(admin_user)
        response = client.post(
            TEST,
            {"connection_mode": "token", "api_url": kube.url, "token": kube.token, "ca_bundle": kube.ca_pem},
            **htmx(),
        )
    finally:
        kube.stop()
    text = html.unescape(response.text)
    cannot_read = re.search(r"It cannot read these.*?</ul>", text, re.S).group(0)
    assert "<strong>Node</strong>" in cannot_read
    assert "StatefulSet" not in cannot_read
    assert "not tried" not in cannot_read
    assert "Not tried, because the test stops after 2 s and this server answers slowly: StatefulSet, " in text
    assert "ExternalSecret" in text
    assert "Secret managers found" not in text


def test_test_connection_explains_a_bad_token(client, team, admin_user, kube):
    client.force_login(admin_user)
    response = client.post(
        TEST,
        {
            "connection_mode": "token",
            "api_url": kube.url,
            "token": "wrong",
            "ca_bundle": kube.ca_pem if kube.tls else "",
        },
        **htmx(),
    )
    assert "<strong>Could not connect:</strong>" in response.text


def test_test_connection_does_not_claim_a_connection_attempt_for_broken_settings(client, team, admin_user):
    client.force_login(admin_user)
    response = client.post(
        TEST, {"connection_mode": "kubeconfig", "kubeconfig_text": "clusters: [\n  - name"}, **htmx()
    )
    assert "Could not connect" not in response.text
    assert "<strong>Not tried:</strong> these settings cannot be used. The kubeconfig is not valid YAML" in (
        response.text
    )


def test_a_binary_file_is_refused_in_the_same_words_by_test_connection_and_register(client, team, admin_user):
    client.force_login(admin_user)
    binary = b"\x1f\x8b\x08\x00\xff\xfe\x00\x00 not a kubeconfig"
    said = "The file is not a text kubeconfig (it is not UTF-8 text)."
    tested = client.post(
        TEST,
        {"connection_mode": "kubeconfig", "kubeconfig_file": SimpleUploadedFile("config", binary)},
        **htmx(),
    )
    assert f"<strong>Not tried:</strong> these settings cannot be used. {said}" in tested.text
    assert "YAML" not in tested.text
    registered = client.post(
        CREATE,
        {
            "name": "k",
            "team": team.pk,
            "connection_mode": "kubeconfig",
            "kubeconfig_file": SimpleUploadedFile("config", binary),
        },
    )
    assert said in registered.text
    assert not Cluster.objects.filter(name="k").exists()


def test_test_connection_uses_the_stored_credentials_when_the_field_is_empty(client, team, admin_user, kube):
    from posture import services

    cluster = services.save_cluster(
        Cluster(
            name="live",
            team=team,
            connection_mode=ConnectionMode.TOKEN,
            api_url=kube.url,
            ca_bundle=kube.ca_pem if kube.tls else "",
        ),
        credentials=kube.token,
    )
    client.force_login(admin_user)
    response = client.post(
        reverse("posture:cluster-test-connection", args=[cluster.pk]),
        {"connection_mode": "token", "api_url": kube.url, "token": "", "ca_bundle": cluster.ca_bundle},
        **htmx(),
    )
    assert "<strong>Connected</strong>" in response.text


def test_test_connection_without_htmx_renders_the_form_with_the_report(client, team, admin_user):
    client.force_login(admin_user)
    response = client.post(
        TEST, {"connection_mode": "token", "api_url": "not a url", "token": TOKEN, "name": "x"}
    )
    assert response.status_code == 200
    assert "<strong>Not tried:</strong> these settings cannot be used. The API URL" in response.text
    assert "<form" in response.text
    assert TOKEN not in response.text


def test_snapshot_clusters_have_nothing_to_test(client, team, admin_user):
    client.force_login(admin_user)
    response = client.post(TEST, {"connection_mode": "snapshot"}, **htmx())
    assert "nothing to test" in response.text


def test_only_admins_register_edit_or_test(client, team, engineer):
    cluster = make_cluster(team, name="c")
    client.force_login(engineer)
    assert client.get(CREATE).status_code == 403
    assert client.get(reverse("posture:cluster-edit", args=[cluster.pk])).status_code == 403
    assert client.post(TEST, {"connection_mode": "token"}).status_code == 403


def test_another_teams_cluster_settings_are_not_found(client, team, outsider):
    cluster = make_cluster(team, name="c")
    client.force_login(outsider)
    assert client.get(reverse("posture:cluster-edit", args=[cluster.pk])).status_code == 404
    assert client.post(reverse("posture:cluster-test-connection", args=[cluster.pk])).status_code == 404
