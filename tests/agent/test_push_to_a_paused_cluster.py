"""An agent that pushes to a paused cluster: Rampart stores the snapshot without scanning it and says so
(202, ``scan`` null, ``paused`` set); the agent logs why and exits 0, neither retrying nor failing its
Job through a maintenance window. Once the cluster is resumed, pushes are scanned again."""

import gzip

import pytest

from posture import pausing
from posture.agent_push import Answer, stored_unscanned
from posture.models import AgentPush, Scan, Snapshot
from tests.agent.helpers import collect_and_push
from tests.factories import as_json_list, deployment

SNAPSHOT = gzip.compress(as_json_list(deployment("web", privileged=True)))


def _push(client, cluster, raw_token, key="push-while-paused-1"):
    return client.post(
        f"/api/v1/clusters/{cluster.pk}/snapshots",
        SNAPSHOT,
        content_type="application/gzip",
        headers={"Authorization": f"Bearer {raw_token}", "Idempotency-Key": key},
    )


@pytest.mark.django_db
def test_a_push_to_a_paused_cluster_is_stored_but_not_scanned(
    client, agent_cluster, ingest_token, admin_user, django_capture_on_commit_callbacks
):
    _, raw, _ = ingest_token
    pausing.pause_cluster(agent_cluster, actor=admin_user, reason="node pool rebuild")

    with django_capture_on_commit_callbacks(execute=True):
        response = _push(client, agent_cluster, raw)

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["scan"] is None
    assert body["paused"]["paused_by"] == "ada"
    assert body["paused"]["pause_reason"] == "node pool rebuild"
    assert Snapshot.objects.get(pk=body["snapshot"]).source == "agent"
    assert not Scan.objects.filter(cluster=agent_cluster).exists()
    recorded = AgentPush.objects.get(cluster=agent_cluster)
    assert (recorded.status_code, recorded.scan_id) == (202, None)
    replay = _push(client, agent_cluster, raw)  # a retry after a lost answer: the same answer
    assert replay.json() == body
    assert replay["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_once_resumed_the_next_push_is_scanned(
    client, agent_cluster, ingest_token, admin_user, django_capture_on_commit_callbacks
):
    _, raw, _ = ingest_token
    pausing.pause_cluster(agent_cluster, actor=admin_user)
    _push(client, agent_cluster, raw, key="while-paused")
    pausing.resume_cluster(agent_cluster, actor=admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = _push(client, agent_cluster, raw, key="after-resuming")

    assert response.status_code == 202
    assert response.json()["paused"] is None
    assert Scan.objects.get(cluster=agent_cluster).pk == response.json()["scan"]["id"]


def test_the_agent_reads_a_paused_answer_as_stored_not_as_a_refusal():
    answer = Answer(
        202,
        {
            "snapshot": 9,
            "scan": None,
            "paused": {"paused_at": "2026-03-02T14:05:00Z", "paused_by": None, "pause_reason": ""},
        },
        from_rampart=True,
    )
    assert stored_unscanned(answer) == (
        "stored without scanning: the cluster is paused in Rampart (since 2026-03-02T14:05:00Z, by an "
        "account since deleted); it is scanned again once a team admin resumes it"
    )
    assert stored_unscanned(Answer(202, {"snapshot": 9, "scan": {"id": 4}, "paused": None}, True)) == ""
    assert stored_unscanned(Answer(202, {"snapshot": 9, "scan": {"id": 4}}, True)) == ""  # an older Rampart


@pytest.mark.django_db(transaction=True)
def test_the_cronjob_logs_why_and_exits_0_when_the_cluster_is_paused(
    live_server, fake_cluster, agent_cluster, ingest_token, admin_user, capsys
):
    _, kubeconfig = fake_cluster
    _, _, token_file = ingest_token
    pausing.pause_cluster(agent_cluster, actor=admin_user, reason="decommission pending")

    collect_and_push(live_server.url, agent_cluster, token_file, kubeconfig)  # exits 0: no CommandError

    out = capsys.readouterr().out
    assert "stored without scanning: the cluster is paused in Rampart (since " in out
    assert ", by ada: decommission pending); it is scanned again once a team admin resumes it" in out
    assert Snapshot.objects.filter(cluster=agent_cluster).count() == 1
    assert not Scan.objects.filter(cluster=agent_cluster).exists()
