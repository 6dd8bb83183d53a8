"""Over the API as on the form: settings that change how Rampart reaches a live cluster are tried before
they are saved; ``"without_connection": true`` saves a cluster Rampart cannot reach yet."""

import pytest

from posture import services
from posture.models import Cluster, ConnectionMode
from tests.api.helpers import assert_error
from tests.fakekube import FakeKube
from tests.live.cluster import fixture_objects

pytestmark = pytest.mark.django_db


@pytest.fixture
def kube():
    server = FakeKube(fixture_objects()).start()
    yield server
    server.stop()


def settings_of(kube, token: str) -> dict:
    return {"name": "edge", "team": "payments", "connection_mode": "token", "api_url": kube.url,
            "ca_bundle": kube.ca_pem, "credentials": token}  # fmt: skip


def test_a_wrong_token_is_a_400_that_says_why_and_nothing_is_registered(api, admin_user, kube):
    response = api(admin_user).post("/api/v1/clusters/", settings_of(kube, "revoked-token"))
    error = assert_error(response, 400, "invalid")
    (said,) = error["fields"]["non_field_errors"]
    assert said == (
        "Rampart could not connect (the API server rejected Rampart's credentials (401 Unauthorized): "
        'the token is invalid or has expired). Fix the settings, or send "without_connection": true to '
        "save them anyway."
    )
    assert "revoked-token" not in response.content.decode()
    assert not Cluster.objects.filter(name="edge").exists()


def test_without_connection_registers_a_cluster_that_is_not_reachable_yet(api, admin_user, kube):
    kube.stop()
    response = api(admin_user).post(
        "/api/v1/clusters/", {**settings_of(kube, "token-for-later"), "without_connection": True}
    )
    assert response.status_code == 201, response.json()
    assert "without_connection" not in response.json()
    assert Cluster.objects.get(name="edge").get_credentials() == "token-for-later"


def test_a_working_token_registers_and_a_rotation_is_tried_before_it_is_stored(api, admin_user, kube):
    client = api(admin_user)
    created = client.post("/api/v1/clusters/", settings_of(kube, kube.token))
    assert created.status_code == 201, created.json()
    path = f"/api/v1/clusters/{created.json()['id']}/"
    assert_error(client.patch(path, {"credentials": "rotated-but-wrong"}), 400, "invalid")
    assert Cluster.objects.get(name="edge").get_credentials() == kube.token


def test_renaming_an_unreachable_cluster_tries_nothing(api, admin_user, kube, team):
    cluster = services.save_cluster(
        Cluster(name="edge", team=team, connection_mode=ConnectionMode.TOKEN, api_url=kube.url,
                ca_bundle=kube.ca_pem),
        credentials=kube.token,
    )  # fmt: skip
    kube.stop()
    response = api(admin_user).patch(f"/api/v1/clusters/{cluster.pk}/", {"name": "edge-eu"})
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "edge-eu"


def _registered(team, kube, token: str) -> Cluster:
    return services.save_cluster(
        Cluster(name="edge", team=team, connection_mode=ConnectionMode.TOKEN, api_url=kube.url,
                ca_bundle=kube.ca_pem),
        credentials=token,
    )  # fmt: skip


def test_an_admin_tests_a_registered_clusters_stored_connection(api, admin_user, team):
    kube = FakeKube(fixture_objects(), forbidden={"nodes"}).start()
    try:
        cluster = _registered(team, kube, kube.token)
        response = api(admin_user).post(f"/api/v1/clusters/{cluster.pk}/test-connection/")
    finally:
        kube.stop()
    assert response.status_code == 200, response.json()
    report = response.json()
    assert (report["ok"], report["error"], report["api_url"]) == (True, "", kube.url)
    access = {row["plural"]: row["status"] for row in report["resources"]}
    assert (access["pods"], access["nodes"]) == ("readable", "forbidden")
    assert kube.token not in response.content.decode()


def test_a_stored_token_that_stopped_working_is_reported_not_raised(api, admin_user, team, kube):
    cluster = _registered(team, kube, "revoked-token")
    report = api(admin_user).post(f"/api/v1/clusters/{cluster.pk}/test-connection/").json()
    assert report["ok"] is False
    assert "401 Unauthorized" in report["error"]
    kube.stop()
    report = api(admin_user).post(f"/api/v1/clusters/{cluster.pk}/test-connection/").json()
    assert report["ok"] is False
    assert "connection refused" in report["error"]


def test_only_a_clusters_admins_test_it_and_snapshot_clusters_have_nothing_to_test(
    api, admin_user, engineer, outsider, team, cluster, kube
):
    live = _registered(team, kube, kube.token)
    assert_error(api(engineer).post(f"/api/v1/clusters/{live.pk}/test-connection/"), 403)
    assert_error(api(outsider).post(f"/api/v1/clusters/{live.pk}/test-connection/"), 404)
    refused = assert_error(api(admin_user).post(f"/api/v1/clusters/{cluster.pk}/test-connection/"), 409)
    assert refused["message"] == (
        "Snapshot and agent clusters are not reached over the network, so there is nothing to test."
    )


def test_the_same_cluster_is_not_registered_twice_in_a_team(api, admin_user, kube):
    client = api(admin_user)
    first = client.post("/api/v1/clusters/", settings_of(kube, kube.token))
    assert first.status_code == 201, first.json()
    assert first.json()["kube_system_uid"]  # learnt from the connection test, before any scan
    again = client.post("/api/v1/clusters/", {**settings_of(kube, kube.token), "name": "edge-again"})
    error = assert_error(again, 400, "invalid")
    (said,) = error["fields"]["non_field_errors"]
    assert said.startswith("These settings reach the cluster the team already scans as “edge”")
    assert not Cluster.objects.filter(name="edge-again").exists()
    tested = client.post(f"/api/v1/clusters/{first.json()['id']}/test-connection/")
    assert tested.json()["kube_system_uid"] == first.json()["kube_system_uid"]
