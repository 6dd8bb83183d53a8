"""An agent that pushes another cluster's snapshot (it was given the wrong cluster's token) is refused
for good: a 409 the agent does not retry, exit code 3, and the refusal waiting on the cluster's page."""

import gzip

import pytest

from posture.agent_push import EXIT_REFUSED
from posture.models import AgentPush, Cluster, Scan, Snapshot
from tests.agent.helpers import run_as_the_cronjob
from tests.api.helpers import assert_error
from tests.factories import as_json_list, deployment

KNOWN_UID = "6c2b0d7e-1f3a-4e55-9a1d-2f7c8b9e0a11"


def _snapshot(uid: str) -> bytes:
    kube_system = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "uid": uid}}
    return gzip.compress(as_json_list(kube_system, deployment("web", privileged=True)))


@pytest.mark.django_db
def test_a_push_of_another_cluster_is_a_final_409_and_nothing_is_stored(client, agent_cluster, ingest_token):
    Cluster.objects.filter(pk=agent_cluster.pk).update(kube_system_uid=KNOWN_UID)
    _, raw, _ = ingest_token
    response = client.post(
        f"/api/v1/clusters/{agent_cluster.pk}/snapshots",
        _snapshot("0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"),
        content_type="application/gzip",
        headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": "push-of-staging-0001"},
    )
    error = assert_error(response, 409, "another_cluster")
    assert "another cluster than edge-agent" in error["message"]
    assert not Snapshot.objects.filter(cluster=agent_cluster).exists()
    assert not Scan.objects.filter(cluster=agent_cluster).exists()
    assert AgentPush.objects.get().status_code == 409  # a retry with the same key gets the same answer
    agent_cluster.refresh_from_db()
    assert agent_cluster.other_kube_system_uid == "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"


@pytest.mark.django_db(transaction=True)
def test_the_cronjob_sees_exit_code_3_and_why_when_its_cluster_is_another(
    live_server, fake_cluster, agent_cluster, ingest_token
):
    _, kubeconfig = fake_cluster
    Cluster.objects.filter(pk=agent_cluster.pk).update(kube_system_uid=KNOWN_UID)
    _, _, token_file = ingest_token
    result = run_as_the_cronjob(live_server.url, agent_cluster, token_file, kubeconfig)
    assert result.returncode == EXIT_REFUSED, result.stderr
    assert "Rampart refused the snapshot (HTTP 409): Snapshot refused: it was taken of another cluster" in (
        result.stderr
    )
    assert f"edge-agent's snapshots so far had {KNOWN_UID}" in result.stderr
    assert AgentPush.objects.filter(cluster=agent_cluster).count() == 1  # refused once, not retried
