"""A scan that could not read a resource type resolves nothing that depends on it."""

import pytest

from findings.models import Finding, FindingStatus
from posture import services
from posture.models import ScanStatus
from posture.scanning.inventory import Inventory
from tests.factories import as_yaml, deployment, scan_snapshot

pytestmark = pytest.mark.django_db


def run_with_inventory(cluster, monkeypatch, inventory):
    # The collector is swapped for a fixed inventory: what is under test is
    # what ingest does with coverage gaps, not how they are discovered.
    monkeypatch.setattr(services, "collect", lambda scan: inventory)
    scan = services.start_scan(cluster, enqueue=False)
    return services.run_scan(scan.pk)


def test_a_partial_scan_does_not_resolve_findings_on_kinds_it_could_not_read(cluster, monkeypatch):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    inventory = Inventory.from_objects([], coverage_gaps={"Deployment": "forbidden: deployments.apps"})
    scan = run_with_inventory(cluster, monkeypatch, inventory)
    assert scan.status == ScanStatus.PARTIAL
    assert scan.coverage_gaps == {"Deployment": "forbidden: deployments.apps"}
    assert scan.resolved_count == 0
    assert not Finding.objects.filter(cluster=cluster, status=FindingStatus.RESOLVED).exists()


def test_a_partial_scan_still_resolves_findings_on_kinds_it_read(cluster, monkeypatch):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    inventory = Inventory.from_objects(
        [deployment("web", hardened=True)], coverage_gaps={"CronJob": "forbidden"}
    )
    scan = run_with_inventory(cluster, monkeypatch, inventory)
    assert scan.status == ScanStatus.PARTIAL
    assert scan.resolved_count == 4
