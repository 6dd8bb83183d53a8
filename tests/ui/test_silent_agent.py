"""An agent that stopped pushing is noticed: its cluster is marked on the overview, the cluster list and
the Agent page, instead of showing last week's grade as if it were today's."""

import gzip
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from posture import pausing, services
from posture.agent_silence import silent_for
from posture.models import IngestToken, Scan, Snapshot
from tests.factories import as_json_list, deployment, make_cluster, scan_snapshot

SNAPSHOT = gzip.compress(as_json_list(deployment("web", privileged=True)))
SILENT = "No push from its agent for"


@pytest.fixture
def agent_cluster(team):
    return make_cluster(team, name="edge-agent", connection_mode="agent")


def _push(client, cluster, django_capture_on_commit_callbacks, days_ago: int):
    _, raw = IngestToken.issue(cluster, "cronjob")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/clusters/{cluster.pk}/snapshots",
            SNAPSHOT,
            content_type="application/gzip",
            headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": f"push-{days_ago}-days-ago"},
        )
    assert response.status_code == 202, response.content
    then = timezone.now() - timedelta(days=days_ago)
    Snapshot.objects.filter(cluster=cluster).update(uploaded_at=then)
    Scan.objects.filter(cluster=cluster).update(created_at=then)


def test_an_agent_silent_for_a_week_is_marked_on_the_overview_and_the_cluster_list(
    client, agent_cluster, admin_user, django_capture_on_commit_callbacks
):
    _push(client, agent_cluster, django_capture_on_commit_callbacks, days_ago=8)
    client.force_login(admin_user)
    for page in (reverse("home"), reverse("posture:cluster-list")):
        assert f'<div class="warn small">{SILENT} 1\xa0week</div>' in client.get(page).text


def test_scan_now_on_the_old_snapshot_does_not_hide_the_silence(
    client, agent_cluster, admin_user, django_capture_on_commit_callbacks
):
    _push(client, agent_cluster, django_capture_on_commit_callbacks, days_ago=3)
    scan = services.start_requested_scan(agent_cluster, trigger="manual")
    services.run_scan(scan.pk)
    client.force_login(admin_user)
    page = client.get(reverse("home")).text
    assert 'Succeeded</span> <span class="muted small">now' in page.replace("\xa0", " ")
    assert f"{SILENT} 3\xa0days" in page


def test_an_agent_that_pushes_and_a_cluster_of_hand_uploaded_snapshots_are_not_marked(
    client, team, agent_cluster, admin_user, django_capture_on_commit_callbacks
):
    _push(client, agent_cluster, django_capture_on_commit_callbacks, days_ago=0)
    uploads = make_cluster(team, name="uploaded-by-hand")  # no agent: nothing is expected of it
    scan_snapshot(uploads, as_json_list(deployment("api")), now=timezone.now() - timedelta(days=30))
    client.force_login(admin_user)
    assert SILENT not in client.get(reverse("home")).text
    assert (
        "No push from the agent"
        not in client.get(reverse("posture:cluster-agent", args=[agent_cluster.pk])).text
    )


def test_the_agent_page_says_since_when_and_where_to_look_in_the_cluster(
    client, agent_cluster, admin_user, django_capture_on_commit_callbacks
):
    _push(client, agent_cluster, django_capture_on_commit_callbacks, days_ago=2)
    client.force_login(admin_user)
    page = client.get(reverse("posture:cluster-agent", args=[agent_cluster.pk])).text
    assert "No push from the agent for 2\xa0days" in page
    assert "kubectl -n rampart-agent get cronjob,jobs" in page


def test_how_long_counts_as_silent_is_a_setting(
    client, settings, agent_cluster, admin_user, django_capture_on_commit_callbacks
):
    settings.RAMPART_AGENT_SILENT_HOURS = 24 * 7  # an agent that pushes weekly
    _push(client, agent_cluster, django_capture_on_commit_callbacks, days_ago=3)
    client.force_login(admin_user)
    assert SILENT not in client.get(reverse("home")).text


def test_a_paused_agent_cluster_shows_as_paused_not_as_silent(
    client, agent_cluster, admin_user, django_capture_on_commit_callbacks
):
    _push(client, agent_cluster, django_capture_on_commit_callbacks, days_ago=8)
    pausing.pause_cluster(
        agent_cluster, actor=admin_user, reason="cluster rebuild"
    )  # agent stopped meanwhile
    client.force_login(admin_user)
    for page in (reverse("home"), reverse("posture:cluster-list")):
        text = client.get(page).text
        assert SILENT not in text
        assert '<div class="paused small" title="cluster rebuild">Paused</div>' in text
    agent_page = client.get(reverse("posture:cluster-agent", args=[agent_cluster.pk])).text
    assert "No push from the agent" not in agent_page
    assert "Scanning of this cluster is paused" in agent_page
    assert silent_for(agent_cluster, timezone.now() - timedelta(days=8)) == ""


def test_the_agent_page_lists_a_push_to_a_paused_cluster_as_not_scanned(
    client, agent_cluster, admin_user, django_capture_on_commit_callbacks
):
    pausing.pause_cluster(agent_cluster, actor=admin_user)
    _push(client, agent_cluster, django_capture_on_commit_callbacks, days_ago=0)
    client.force_login(admin_user)
    page = client.get(reverse("posture:cluster-agent", args=[agent_cluster.pk])).text
    assert "<td>HTTP 202</td>" in page
    assert '<span class="muted">not scanned: paused</span>' in page
