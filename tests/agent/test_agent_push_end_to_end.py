"""The agent collects from the fake API server and pushes to a running Rampart, which scans what it got."""

import gzip

import orjson
import pytest
from django.core.management import call_command

from findings.models import Finding
from posture.models import AgentPush, Scan, Snapshot
from tests.agent.helpers import collect_and_push
from tests.live.cluster import SECRET_VALUE

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_agent_pushes_a_live_snapshot_and_the_scan_finds_the_privileged_container(
    live_server, fake_cluster, agent_cluster, ingest_token, capsys
):
    kube, kubeconfig = fake_cluster
    _, _, token_file = ingest_token

    collect_and_push(live_server.url, agent_cluster, token_file, kubeconfig)

    assert "queued scan #" in capsys.readouterr().out
    scan = Scan.objects.get(cluster=agent_cluster)
    assert scan.trigger == "agent"
    assert scan.status == "succeeded", scan.error
    privileged = Finding.objects.filter(cluster=agent_cluster, check_id="privileged-container")
    assert [(f.kind, f.namespace, f.name) for f in privileged] == [("Deployment", "shop", "web")]
    snapshot = Snapshot.objects.get(cluster=agent_cluster)
    assert snapshot.source == "agent"
    kept = gzip.decompress(bytes(snapshot.content))
    assert SECRET_VALUE.encode() not in kept
    assert AgentPush.objects.get().status_code == 202
    # The agent only listed; it never wrote to the cluster.
    assert {request.method for request in kube.requests} == {"GET"}


def test_the_agent_writes_a_snapshot_file_instead_of_pushing(fake_cluster, tmp_path):
    _, kubeconfig = fake_cluster
    out = tmp_path / "snapshot.json.gz"
    call_command("collect", "--output", str(out), "--kubeconfig", str(kubeconfig))
    document = orjson.loads(gzip.decompress(out.read_bytes()))
    assert document["kind"] == "List"
    kinds = {item["kind"] for item in document["items"]}
    assert {"Deployment", "Pod", "Secret", "ClusterRole"} <= kinds
    secrets = [item for item in document["items"] if item["kind"] == "Secret"]
    assert all("data" not in item and "stringData" not in item for item in secrets)
    assert document["metadata"]["annotations"]["rampart.dev/coverage-gaps"] == "{}"
