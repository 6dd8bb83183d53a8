import pytest
import yaml

from accounts.models import ApiToken, AuditEvent, Role
from findings.models import Finding
from posture import services
from posture.models import Cluster, ScanStatus
from tests.api.helpers import assert_error
from tests.factories import as_yaml, deployment, make_cluster, make_user, scan_snapshot

pytestmark = pytest.mark.django_db

TOKEN_CLUSTER = {
    "name": "edge-1",
    "team": "payments",
    "connection_mode": "token",
    "api_url": "https://203.0.113.10:6443",
    "credentials": "eyJhbGciOi.secret-bearer-token-value",
    # Nothing answers there: saved without trying (tests/api/test_cluster_connection_on_save.py).
    "without_connection": True,
}


def test_every_role_lists_and_reads_its_teams_clusters(api, viewer, engineer, admin_user, cluster):
    for user in (viewer, engineer, admin_user):
        listed = api(user).get("/api/v1/clusters/").json()
        assert [row["name"] for row in listed["results"]] == ["prod-eu"]
        assert api(user).get(f"/api/v1/clusters/{cluster.pk}/").json()["team"] == "payments"


def test_another_teams_cluster_is_not_found(api, outsider, cluster):
    assert_error(api(outsider).get(f"/api/v1/clusters/{cluster.pk}/"), 404, "not_found")
    assert_error(api(outsider).patch(f"/api/v1/clusters/{cluster.pk}/", {"description": "x"}), 404)
    assert_error(api(outsider).delete(f"/api/v1/clusters/{cluster.pk}/"), 404)


def test_an_admin_registers_a_cluster_and_its_credentials_are_never_returned(api, admin_user):
    response = api(admin_user).post("/api/v1/clusters/", TOKEN_CLUSTER)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["has_credentials"] is True
    assert "credentials" not in body
    assert "secret-bearer-token-value" not in response.content.decode()
    cluster = Cluster.objects.get(name="edge-1")
    assert cluster.get_credentials() == TOKEN_CLUSTER["credentials"]
    detail = api(admin_user).get(f"/api/v1/clusters/{cluster.pk}/").content.decode()
    assert "secret-bearer-token-value" not in detail
    assert cluster.credentials_encrypted not in detail


def test_viewers_and_engineers_cannot_register_change_or_delete_clusters(api, viewer, engineer, cluster):
    for user in (viewer, engineer):
        assert_error(api(user).post("/api/v1/clusters/", TOKEN_CLUSTER), 403, "permission_denied")
        assert_error(api(user).patch(f"/api/v1/clusters/{cluster.pk}/", {"description": "x"}), 403)
        assert_error(api(user).delete(f"/api/v1/clusters/{cluster.pk}/"), 403)
    assert Cluster.objects.count() == 1


def test_a_change_refused_to_viewers_and_engineers_tells_them_nothing_of_the_stored_kubeconfig(
    api, viewer, engineer, team
):
    kubeconfig = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "ctx-prod-private",
            "clusters": [{"name": "c-private", "cluster": {"server": "https://203.0.113.10:6443"}}],
            "users": [{"name": "u-private", "user": {"token": "tok-private"}}],
            "contexts": [
                {"name": "ctx-prod-private", "context": {"cluster": "c-private", "user": "u-private"}},
                {"name": "ctx-broken-private", "context": {"cluster": "c-private", "user": "u-gone-private"}},
            ],
        }
    )
    cluster = services.save_cluster(
        Cluster(name="k", team=team, connection_mode="kubeconfig"), credentials=kubeconfig
    )
    # Each body would be refused by validation, whose messages name the kubeconfig's contexts and users.
    bodies = [{"kube_context": "guess"}, {"kube_context": "ctx-broken-private"}, {"check_settings": []}]
    for user in (viewer, engineer):
        for body in bodies:
            for send in (api(user).patch, api(user).put):
                response = send(f"/api/v1/clusters/{cluster.pk}/", body)
                assert_error(response, 403, "permission_denied")
                assert "private" not in response.content.decode()
    cluster.refresh_from_db()
    assert cluster.kube_context == ""


def test_an_admin_cannot_register_a_cluster_for_another_team_nor_learn_that_it_exists(
    api, admin_user, other_team
):
    foreign = api(admin_user).post("/api/v1/clusters/", {**TOKEN_CLUSTER, "team": "search"})
    unknown = api(admin_user).post("/api/v1/clusters/", {**TOKEN_CLUSTER, "team": "no-such-team"})
    assert assert_error(foreign, 400)["fields"]["team"] == ["Object with slug=search does not exist."]
    assert assert_error(unknown, 400)["fields"]["team"] == ["Object with slug=no-such-team does not exist."]


def test_a_read_only_token_never_writes_even_for_an_admin(api, admin_user, cluster):
    readonly = api(admin_user, scope=ApiToken.Scope.READ)
    assert_error(readonly.post("/api/v1/clusters/", TOKEN_CLUSTER), 403, "permission_denied")
    assert_error(readonly.delete(f"/api/v1/clusters/{cluster.pk}/"), 403)
    assert readonly.get(f"/api/v1/clusters/{cluster.pk}/").status_code == 200


def test_an_admin_changes_settings_keeps_credentials_unless_given_and_deletes(api, admin_user):
    created = api(admin_user).post("/api/v1/clusters/", TOKEN_CLUSTER).json()
    changed = api(admin_user).patch(
        f"/api/v1/clusters/{created['id']}/", {"description": "edge site", "scan_cron": "0 3 * * *"}
    )
    assert changed.status_code == 200, changed.json()
    cluster = Cluster.objects.get(pk=created["id"])
    assert cluster.description == "edge site"
    assert cluster.scan_cron == "0 3 * * *"
    assert cluster.get_credentials() == TOKEN_CLUSTER["credentials"]
    assert api(admin_user).delete(f"/api/v1/clusters/{created['id']}/").status_code == 204
    assert not Cluster.objects.filter(pk=created["id"]).exists()


def test_bad_cluster_settings_are_reported_per_field(api, admin_user):
    cases = [
        ({**TOKEN_CLUSTER, "api_url": "ftp://x"}, "api_url"),
        ({**TOKEN_CLUSTER, "credentials": ""}, "credentials"),
        ({**TOKEN_CLUSTER, "connection_mode": "warp"}, "connection_mode"),
        ({**TOKEN_CLUSTER, "scan_cron": "every tuesday"}, "scan_cron"),
        ({**TOKEN_CLUSTER, "name": "x" * 500}, "name"),
        ({**TOKEN_CLUSTER, "scan_interval_minutes": "soon"}, "scan_interval_minutes"),
        ({**TOKEN_CLUSTER, "connection_mode": "agent"}, "credentials"),
        ({**TOKEN_CLUSTER, "team": "no-such-team"}, "team"),
    ]
    for body, field in cases:
        error = assert_error(api(admin_user).post("/api/v1/clusters/", body), 400, "invalid")
        assert field in error["fields"], (field, error)


def test_a_name_is_unique_within_a_team_in_any_case_and_free_in_another(api, admin_user, cluster, other_team):
    for name in ("prod-eu", "PROD-EU"):
        error = assert_error(api(admin_user).post("/api/v1/clusters/", {**TOKEN_CLUSTER, "name": name}), 400)
        assert error["fields"]["name"] == ["This team already has a cluster of this name."]
    renamed = api(admin_user).post("/api/v1/clusters/", {**TOKEN_CLUSTER, "name": "prod-us"}).json()
    error = assert_error(
        api(admin_user).patch(f"/api/v1/clusters/{renamed['id']}/", {"name": "Prod-EU"}), 400
    )
    assert "name" in error["fields"]
    assert api(admin_user).patch(f"/api/v1/clusters/{renamed['id']}/", {"name": "prod-us"}).status_code == 200
    # Another team's "prod-eu" is its own: nothing about the first one shows through.
    other_admin = make_user(other_team, Role.ADMIN)
    response = api(other_admin).post(
        "/api/v1/clusters/", {**TOKEN_CLUSTER, "team": other_team.slug, "name": "prod-eu"}
    )
    assert response.status_code == 201, response.content
    assert Cluster.objects.filter(name="prod-eu").count() == 2


def test_two_registrations_of_one_name_at_once_leave_one_cluster_and_a_clear_refusal(
    api, admin_user, monkeypatch
):
    """The check before saving cannot see a request saving the same name at the same moment; the
    database's constraint does, and the loser gets the same answer as a late one."""
    api(admin_user).post("/api/v1/clusters/", {**TOKEN_CLUSTER, "name": "edge-9"})
    monkeypatch.setattr(services, "cluster_name_taken", lambda *args, **kwargs: False)  # the race window
    error = assert_error(api(admin_user).post("/api/v1/clusters/", {**TOKEN_CLUSTER, "name": "EDGE-9"}), 400)
    assert error["fields"]["name"] == ["This team already has a cluster of this name."]
    assert Cluster.objects.filter(name__iexact="edge-9").count() == 1
    assert AuditEvent.objects.filter(action="cluster.created").count() == 1  # the loser left nothing


def test_an_engineer_queues_a_scan_and_a_viewer_may_not(api, viewer, engineer, cluster):
    assert_error(api(viewer).post(f"/api/v1/clusters/{cluster.pk}/scan/"), 403)
    nothing = assert_error(api(engineer).post(f"/api/v1/clusters/{cluster.pk}/scan/"), 409)
    assert nothing["message"] == "No snapshot of prod-eu has been uploaded yet: upload one to scan it."
    services.store_snapshot(cluster, as_yaml(deployment("web")))
    assert api(engineer).post(f"/api/v1/clusters/{cluster.pk}/scan/").status_code == 202


def test_scans_are_listed_filtered_and_scoped_to_the_team(api, viewer, scanned, other_team):
    make_cluster(other_team, name="foreign")
    body = api(viewer).get("/api/v1/scans/", {"cluster": scanned.pk, "status": "succeeded"}).json()
    assert body["count"] == 1
    assert body["results"][0]["cluster"] == scanned.pk
    scan_id = body["results"][0]["id"]
    assert api(viewer).get(f"/api/v1/scans/{scan_id}/").json()["grade"]
    assert_error(api(viewer).get("/api/v1/scans/", {"status": "exploded"}), 400, "invalid")


def test_an_admin_sets_a_clusters_own_check_settings_and_mistakes_are_named(api, admin_user, cluster):
    client = api(admin_user)
    url = f"/api/v1/clusters/{cluster.pk}/"
    own = {
        "disabled": ["latest-tag"],
        "severity": {"privileged-container": "medium"},
        "options": {"secret_max_age_days": 30, "trusted_registries": ["ghcr.io/acme"]},
    }
    response = client.patch(url, {"check_settings": own})
    assert response.status_code == 200, response.content
    assert response.json()["check_settings"] == own
    scan = scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    found = set(Finding.objects.filter(last_seen_scan=scan).values_list("check_id", "severity"))
    assert ("privileged-container", "medium") in found
    assert ("untrusted-registry", "medium") in found  # registry.example.com is not ghcr.io/acme
    assert not {check_id for check_id, _ in found} & {"latest-tag"}

    error = assert_error(
        client.patch(url, {"check_settings": {"severity": {"privileged-container": "apocalyptic"}}}), 400
    )
    assert set(error["fields"]["check_settings"]) == {"severity"}
    mistakes = {
        "disabled": ["no-such-check"],
        "options": {"secret_max_age_days": -1, "no_such_option": 1, "extra_database_ports": [70000]},
    }
    error = assert_error(client.patch(url, {"check_settings": mistakes}), 400, "invalid")
    problems = error["fields"]["check_settings"]
    assert set(problems) == {"disabled", "options", "secret_max_age_days", "extra_database_ports"}
    assert problems["extra_database_ports"] == ["70000 is not a port number (1-65535)."]
    cluster.refresh_from_db()
    assert cluster.check_settings == own  # nothing of a refused change is kept
    error = assert_error(client.patch(url, {"check_settings": {"disable": ["latest-tag"]}}), 400)
    assert error["fields"]["check_settings"] == {"disable": ["Unknown key."]}


def test_a_cluster_whose_scans_now_fail_says_so_beside_its_last_good_scan(
    api, viewer, cluster, django_assert_max_num_queries
):
    assert api(viewer).get(f"/api/v1/clusters/{cluster.pk}/").json()["latest_attempt"] is None
    good = scan_snapshot(cluster, as_yaml(deployment("web")))
    failed = services.start_scan(cluster, enqueue=False)
    failed.status, failed.error = ScanStatus.FAILED, "the API server did not answer within 30 s"
    failed.save(update_fields=["status", "error"])

    body = api(viewer).get(f"/api/v1/clusters/{cluster.pk}/").json()
    assert body["last_scan"]["id"] == good.pk
    assert body["latest_attempt"]["id"] == failed.pk
    assert body["latest_attempt"]["status"] == "failed"
    assert body["latest_attempt"]["error"] == "the API server did not answer within 30 s"

    for number in range(5):
        make_cluster(cluster.team, name=f"more-{number}")
    with django_assert_max_num_queries(5):  # the attempts come with the list, not a query per cluster
        rows = api(viewer).get("/api/v1/clusters/").json()["results"]
    assert {row["name"]: row["latest_attempt"] and row["latest_attempt"]["status"] for row in rows} == {
        "prod-eu": "failed",
        **{f"more-{number}": None for number in range(5)},
    }
