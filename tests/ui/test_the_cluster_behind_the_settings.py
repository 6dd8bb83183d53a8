"""Saving a live cluster's settings learns which cluster they reach (its kube-system namespace's uid):
the same cluster is not registered twice in a team, and settings that now reach another cluster than
the one scanned so far say so before its scans fail."""

import html

import pytest
from django.urls import reverse

from posture import services
from posture.models import Cluster
from tests.factories import make_team, make_user
from tests.fakekube import FakeKube
from tests.live.cluster import fixture_objects

pytestmark = pytest.mark.django_db

CREATE = reverse("posture:cluster-create")
REBUILT_UID = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"


@pytest.fixture
def kube():
    server = FakeKube(fixture_objects()).start()
    yield server
    server.stop()


@pytest.fixture
def rebuilt():
    """The same cluster name, rebuilt: another kube-system namespace."""
    objects = [
        {**obj, "metadata": {**obj["metadata"], "uid": REBUILT_UID}}
        if obj["kind"] == "Namespace" and obj["metadata"]["name"] == "kube-system"
        else obj
        for obj in fixture_objects()
    ]
    server = FakeKube(objects).start()
    yield server
    server.stop()


def token_form(kube, name="edge", **fields) -> dict:
    return {"name": name, "connection_mode": "token", "api_url": kube.url, "token": kube.token,
            "ca_bundle": kube.ca_pem, **fields}  # fmt: skip


def register(client, kube, team, name="edge"):
    return client.post(CREATE, token_form(kube, name, team=team.pk), follow=True)


def test_registering_learns_which_cluster_it_is_before_any_scan(client, team, admin_user, kube):
    client.force_login(admin_user)
    assert "Connected to" in register(client, kube, team).text
    assert Cluster.objects.get(name="edge").kube_system_uid  # from "Test connection", not a scan


def test_the_same_cluster_cannot_be_registered_twice_in_a_team(client, team, admin_user, kube):
    client.force_login(admin_user)
    register(client, kube, team)
    page = html.unescape(register(client, kube, team, name="edge-again").text)
    assert (
        "Not registered: these settings reach the cluster the team already scans as “edge” (the same "
        "kube-system namespace" in page
    )
    assert not Cluster.objects.filter(name="edge-again").exists()


def test_another_team_may_register_the_same_cluster_and_learns_nothing_of_the_first(client, team, kube):
    client.force_login(make_user(team, "admin", username="first-admin"))
    register(client, kube, team)
    other_team = make_team("Platform")
    client.force_login(make_user(other_team, "admin", username="platform-admin"))
    page = register(client, kube, other_team, name="platform-edge").text
    assert "Connected to" in page
    assert Cluster.objects.filter(team=other_team, name="platform-edge").exists()


def test_settings_that_now_reach_a_rebuilt_cluster_are_saved_with_a_warning_and_wait_for_an_answer(
    client, team, admin_user, kube, rebuilt
):
    client.force_login(admin_user)
    register(client, kube, team)
    cluster = Cluster.objects.get(name="edge")
    edit = reverse("posture:cluster-edit", args=[cluster.pk])
    # "Test connection" says it before anything is saved...
    tested = html.unescape(
        client.post(
            reverse("posture:cluster-test-connection", args=[cluster.pk]),
            token_form(rebuilt, team=team.pk),
        ).text
    )
    assert "These settings reach another cluster than the one edge's scans read so far" in tested
    assert REBUILT_UID in tested
    # ...saving says it again, and the cluster's page waits for a team admin.
    saved = html.unescape(client.post(edit, token_form(rebuilt, team=team.pk), follow=True).text)
    assert "Saved, but" in saved
    assert "now leads to another cluster than the one edge's scans read so far" in saved
    assert "The API server now serves another cluster" in saved
    assert services.run_scan(services.start_scan(cluster, enqueue=False).pk).status == "failed"
    client.post(reverse("posture:cluster-other-cluster", args=[cluster.pk]), {"decision": "accept"})
    assert services.run_scan(services.start_scan(cluster, enqueue=False).pk).status == "succeeded"


def test_a_cluster_that_reaches_nothing_yet_is_compared_with_nothing(client, team, admin_user, kube):
    client.force_login(admin_user)
    kube.stop()
    response = client.post(CREATE, token_form(kube, team=team.pk, without_connection="on"), follow=True)
    assert response.status_code == 200
    assert Cluster.objects.get(name="edge").kube_system_uid == ""
