"""Registering a live cluster, or changing how Rampart reaches it, tries the connection first.

A wrong token or CA used to be saved without a word and said only by the first scan. Now it is said
on the form, nothing is saved, and a cluster that cannot be reached yet is still registered when the
operator ticks "Save even if Rampart cannot connect to it now". Renaming or rescheduling a cluster never
depends on it being reachable.
"""

import base64
import html

import pytest
import yaml
from django.urls import reverse

from posture import services
from posture.models import Cluster, ConnectionMode
from tests.fakekube import FakeKube
from tests.live.cluster import fixture_objects

pytestmark = pytest.mark.django_db

CREATE = reverse("posture:cluster-create")
ANYWAY = "Save even if Rampart cannot connect to it now"


@pytest.fixture
def kube():
    server = FakeKube(fixture_objects(), forbidden={"nodes"}).start()
    yield server
    server.stop()


def token_form(kube, token, **fields) -> dict:
    return {"name": "edge", "team": fields.pop("team"), "connection_mode": "token", "api_url": kube.url,
            "token": token, "ca_bundle": kube.ca_pem, **fields}  # fmt: skip


def test_a_wrong_token_is_refused_on_the_form_and_nothing_is_registered(client, team, admin_user, kube):
    client.force_login(admin_user)
    response = client.post(CREATE, token_form(kube, "expired-token-value", team=team.pk))
    text = html.unescape(response.text)
    assert response.status_code == 200
    assert (
        "Not registered: Rampart could not connect (the API server rejected Rampart's credentials "
        f"(401 Unauthorized): the token is invalid or has expired). Fix the settings, or tick “{ANYWAY}” "
        "and give the token again." in text
    )
    assert "<strong>Could not connect:</strong>" in text  # the report, where "Test connection" puts it
    assert "expired-token-value" not in text
    assert not Cluster.objects.filter(name="edge").exists()


def test_a_cluster_not_reachable_yet_is_registered_when_the_operator_says_so(client, team, admin_user, kube):
    kube.stop()  # not reachable (yet)
    client.force_login(admin_user)
    response = client.post(
        CREATE, token_form(kube, "a-token-for-later", team=team.pk, without_connection="on"), follow=True
    )
    text = html.unescape(response.text)
    cluster = Cluster.objects.get(name="edge")
    assert cluster.get_credentials() == "a-token-for-later"
    assert "Cluster edge registered." in text
    assert f"Saved without a working connection: cannot reach the API server at {kube.url}" in text
    assert "a-token-for-later" not in text


def test_a_registration_that_connects_says_what_rampart_can_read(client, team, admin_user, kube):
    client.force_login(admin_user)
    response = client.post(CREATE, token_form(kube, kube.token, team=team.pk), follow=True)
    text = html.unescape(response.text)
    assert Cluster.objects.filter(name="edge").exists()
    assert f"Connected to {kube.url} (Kubernetes v1." in text
    assert "It cannot read Node: checks that need them will not be assessed." in text


def test_a_kubeconfig_whose_server_is_down_is_refused_asking_for_the_file_again(
    client, team, admin_user, kube
):
    ca_data = base64.b64encode(kube.ca_pem.encode()).decode()
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "prod",
        "clusters": [{"name": "c", "cluster": {"server": kube.url, "certificate-authority-data": ca_data}}],
        "users": [{"name": "u", "user": {"token": kube.token}}],
        "contexts": [{"name": "prod", "context": {"cluster": "c", "user": "u"}}],
    }  # fmt: skip
    kube.stop()
    client.force_login(admin_user)
    fields = {"name": "k", "team": team.pk, "connection_mode": "kubeconfig"}
    response = client.post(CREATE, {**fields, "kubeconfig_text": yaml.safe_dump(document)})
    text = html.unescape(response.text)
    assert f"Not registered: Rampart could not connect (cannot reach the API server at {kube.url}" in text
    assert "and give the kubeconfig again." in text
    assert not Cluster.objects.filter(name="k").exists()


@pytest.fixture
def registered(team, kube) -> Cluster:
    cluster = Cluster(
        name="edge", team=team, connection_mode=ConnectionMode.TOKEN, api_url=kube.url, ca_bundle=kube.ca_pem
    )
    return services.save_cluster(cluster, credentials=kube.token)


def test_a_rotated_token_that_does_not_work_leaves_the_stored_one_in_place(
    client, team, admin_user, kube, registered
):
    client.force_login(admin_user)
    edit = reverse("posture:cluster-edit", args=[registered.pk])
    refused = client.post(edit, token_form(kube, "rotated-but-wrong", team=team.pk))
    assert "Not saved: Rampart could not connect" in html.unescape(refused.text)
    registered.refresh_from_db()
    assert registered.get_credentials() == kube.token
    kube.tokens["rotated-and-right"] = "system:serviceaccount:rampart:scanner"
    saved = client.post(edit, token_form(kube, "rotated-and-right", team=team.pk), follow=True)
    assert f"Connected to {kube.url}" in saved.text
    registered.refresh_from_db()
    assert registered.get_credentials() == "rotated-and-right"


def test_renaming_or_rescheduling_an_unreachable_cluster_tries_nothing(
    client, team, admin_user, kube, registered
):
    kube.stop()
    client.force_login(admin_user)
    response = client.post(
        reverse("posture:cluster-edit", args=[registered.pk]),
        token_form(kube, "", team=team.pk, name="edge-eu", scan_interval_minutes=60),
        follow=True,
    )
    assert "Settings of edge-eu saved." in response.text
    assert "Connected" not in response.text
    assert "without a working connection" not in response.text
    registered.refresh_from_db()
    assert (registered.name, registered.scan_interval_minutes) == ("edge-eu", 60)
    assert registered.get_credentials() == kube.token
