"""What the agent could not read stays a coverage gap after the push, the storage and the scan."""

import gzip

import orjson
import pytest

from findings.models import Finding, FindingStatus
from posture import services
from posture.models import ScanStatus
from posture.scanning.collectors.snapshot import list_annotations
from tests.factories import as_yaml, deployment, scan_snapshot

pytestmark = pytest.mark.django_db


def agent_snapshot(objects, gaps):
    document = {
        "apiVersion": "v1",
        "kind": "List",
        "items": objects,
        "metadata": {"annotations": list_annotations(gaps, {"gitVersion": "v1.31.2"})},
    }
    return gzip.compress(orjson.dumps(document))


def test_a_pushed_snapshot_with_a_gap_is_a_partial_scan_that_resolves_nothing_it_could_not_see(cluster):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    data = agent_snapshot([], {"Deployment": "forbidden: deployments.apps is forbidden"})
    scan = scan_snapshot(cluster, data)
    assert scan.status == ScanStatus.PARTIAL
    assert scan.coverage_gaps == {"Deployment": "forbidden: deployments.apps is forbidden"}
    assert scan.server_version == "v1.31.2"
    assert scan.resolved_count == 0
    assert Finding.objects.get(check_id="privileged-container").status == FindingStatus.OPEN


def test_hostile_annotations_are_ignored_not_trusted(cluster):
    document = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [deployment("web")],
        "metadata": {"annotations": {"rampart.dev/coverage-gaps": "{not json"}},
    }
    snapshot = services.store_snapshot(cluster, orjson.dumps(document))
    scan = services.run_scan(services.start_scan(cluster, snapshot=snapshot, enqueue=False).pk)
    assert scan.status == ScanStatus.SUCCEEDED
    assert scan.coverage_gaps == {}
