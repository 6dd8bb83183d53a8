import pytest

from findings.models import Finding, FindingEvent, FindingStatus
from posture.models import ScanStatus
from tests.factories import as_yaml, deployment, scan_snapshot

pytestmark = pytest.mark.django_db

BROKEN = as_yaml(deployment("web", privileged=True), deployment("api"))
FIXED = as_yaml(deployment("web", hardened=True), deployment("api", hardened=True))


def statuses(cluster):
    return dict(Finding.objects.filter(cluster=cluster).values_list("check_id", "status").distinct())


def test_a_first_scan_stores_one_finding_per_problem(cluster):
    scan = scan_snapshot(cluster, BROKEN)
    assert scan.status == ScanStatus.SUCCEEDED
    # web: privileged + 3 context checks; api: 3 context checks
    assert Finding.objects.filter(cluster=cluster).count() == 7
    assert scan.new_count == 7
    assert scan.findings_count == 7


def test_a_rescan_of_an_unchanged_cluster_creates_no_new_findings(cluster):
    first = scan_snapshot(cluster, BROKEN)
    second = scan_snapshot(cluster, BROKEN)
    assert Finding.objects.filter(cluster=cluster).count() == 7
    assert second.new_count == 0
    assert second.resolved_count == 0
    finding = Finding.objects.get(cluster=cluster, check_id="privileged-container")
    assert finding.first_seen_scan_id == first.pk
    assert finding.last_seen_scan_id == second.pk


def test_a_finding_no_longer_seen_by_a_complete_scan_is_resolved_with_history(cluster):
    scan_snapshot(cluster, BROKEN)
    fixed = scan_snapshot(cluster, FIXED)
    assert fixed.resolved_count == 7
    assert set(Finding.objects.filter(cluster=cluster).values_list("status", flat=True)) == {
        FindingStatus.RESOLVED
    }
    event = FindingEvent.objects.filter(finding__check_id="privileged-container").get()
    assert (event.from_value, event.to_value, event.actor, event.scan_id) == (
        "open",
        "resolved",
        None,
        fixed.pk,
    )


def test_a_resolved_finding_that_returns_is_reopened_not_duplicated(cluster):
    scan_snapshot(cluster, BROKEN)
    scan_snapshot(cluster, FIXED)
    again = scan_snapshot(cluster, BROKEN)
    assert again.reopened_count == 7
    assert again.new_count == 0
    assert Finding.objects.filter(cluster=cluster).count() == 7
    finding = Finding.objects.get(cluster=cluster, check_id="privileged-container")
    assert finding.status == FindingStatus.OPEN
    assert list(finding.events.values_list("to_value", flat=True)) == ["resolved", "open"]


def test_triage_decisions_survive_rescans(cluster, engineer):
    from datetime import timedelta

    from django.utils import timezone

    from findings import triage

    scan_snapshot(cluster, BROKEN)
    finding = Finding.objects.get(cluster=cluster, check_id="privileged-container")
    triage.change_status(
        finding,
        FindingStatus.RISK_ACCEPTED,
        actor=engineer,
        reason="vendor appliance",
        until=timezone.now() + timedelta(days=30),
    )
    scan_snapshot(cluster, BROKEN)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RISK_ACCEPTED
    assert finding.status_reason == "vendor appliance"


def test_the_same_object_twice_in_a_snapshot_is_one_finding(cluster):
    scan = scan_snapshot(
        cluster, as_yaml(deployment("web", privileged=True), deployment("web", privileged=True))
    )
    assert Finding.objects.filter(cluster=cluster, check_id="privileged-container").count() == 1
    assert scan.status == ScanStatus.SUCCEEDED


def test_evidence_records_the_path_and_the_offending_value(cluster):
    scan_snapshot(cluster, BROKEN)
    finding = Finding.objects.get(cluster=cluster, check_id="privileged-container")
    assert finding.evidence == {
        "path": "spec.template.spec.containers[0].securityContext.privileged",
        "value": True,
    }
