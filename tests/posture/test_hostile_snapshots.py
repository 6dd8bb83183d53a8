"""Snapshots that parse but hold what storage cannot: the rest is kept, the scan succeeds."""

import gzip
import json

import pytest

from findings.models import Finding
from posture import services
from tests.factories import deployment

pytestmark = pytest.mark.django_db


def _json_list(*raw_items: str, annotations: str = "{}") -> bytes:
    # Written by hand: the values below are what a JSON encoder refuses to write.
    items = ",".join(raw_items)
    head = f'{{"apiVersion":"v1","kind":"List","metadata":{{"annotations":{annotations}}}'
    return f'{head},"items":[{items}]}}'.encode()


def test_objects_that_cannot_be_stored_are_reported_and_the_rest_is_scanned(cluster):
    good = json.dumps(deployment("web", privileged=True))
    surrogate = json.dumps(deployment("lone")).replace('"lone"', '"lone\\ud800"', 1)
    huge = json.dumps(deployment("huge")).replace(
        '"containers"', '"replicas": 1' + "0" * 30 + ', "containers"'
    )
    snapshot = services.store_snapshot(cluster, _json_list(good, surrogate, huge))

    reasons = " | ".join(error["reason"] for error in snapshot.errors)
    assert "Deployment shop/huge cannot be stored" in reasons
    stored = json.loads(gzip.decompress(bytes(snapshot.content)))
    # A lone surrogate escape reads as U+FFFD, as Kubernetes' decoder reads it; 31 digits cannot be stored.
    assert [item["metadata"]["name"] for item in stored["items"]] == ["web", "lone\ufffd"]
    scan = services.run_scan(services.start_scan(cluster, snapshot=snapshot, enqueue=False).pk)
    assert scan.status == "succeeded"
    assert Finding.objects.filter(cluster=cluster, check_id="privileged-container", name="web").exists()


def test_non_string_keys_are_stored_as_kubernetes_writes_them(cluster):
    yaml_text = (
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: shop\n"
        b"  labels: {2: two, yes: on}\ndata:\n  ~: x\n"
    )
    snapshot = services.store_snapshot(cluster, yaml_text)
    [stored] = json.loads(gzip.decompress(bytes(snapshot.content)))["items"]
    assert stored["metadata"]["labels"] == {"2": "two", "true": True}
    assert stored["data"] == {"null": "x"}


def test_nul_characters_never_reach_the_database(cluster):
    cluster.check_settings = {}  # the whole catalogue
    cluster.save()
    privileged = deployment("web")
    container = privileged["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"] = {"capabilities": {"add": ["NET\u0000RAW", "SYS_ADMIN"]}}
    odd_kind = {
        "apiVersion": "v1",
        "kind": "Deploy\u0000ment",
        "metadata": {"name": "x", "namespace": "shop"},
    }
    gaps = json.dumps(json.dumps({"Secret\u0000": "forbidden\u0000"}))
    snapshot = services.store_snapshot(
        cluster,
        _json_list(
            json.dumps(privileged),
            json.dumps(odd_kind),
            annotations=f'{{"rampart.dev/coverage-gaps":{gaps}}}',
        ),
    )
    scan = services.run_scan(services.start_scan(cluster, snapshot=snapshot, enqueue=False).pk)

    assert scan.status == "partial"
    assert scan.coverage_gaps == {"Secret": "forbidden"}
    assert "Deployment" in scan.objects_collected
    finding = Finding.objects.get(cluster=cluster, check_id="dangerous-capabilities", name="web")
    assert "\x00" not in json.dumps(finding.evidence, ensure_ascii=False)
    assert "NETRAW" in json.dumps(finding.evidence)
