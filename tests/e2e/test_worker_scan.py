"""The whole path on real parts: snapshot cluster → queue → Celery worker → PostgreSQL."""

from findings.models import Finding, FindingStatus
from posture import services
from posture.models import Scan, ScanStatus
from tests.e2e.conftest import wait_for
from tests.factories import as_yaml, deployment, make_lifecycle_cluster, make_team

BROKEN = as_yaml(deployment("web", privileged=True), deployment("api"))
FIXED = as_yaml(deployment("web", hardened=True), deployment("api", hardened=True))


def scan_in_worker(cluster, data, worker) -> Scan:
    snapshot = services.store_snapshot(cluster, data)
    scan = services.start_scan(cluster, snapshot=snapshot)  # outside a transaction: enqueued at once

    def finished():
        scan.refresh_from_db()
        return scan.status in ScanStatus.finished()

    wait_for(finished, message=f"scan {scan.pk} to finish; worker log:\n{worker.output()[-2000:]}")
    return scan


def test_a_real_worker_scans_a_snapshot_cluster_and_tracks_findings_across_scans(celery_worker):
    cluster = make_lifecycle_cluster(make_team("Shop"), name="shop-prod")

    first = scan_in_worker(cluster, BROKEN, celery_worker)
    assert first.status == ScanStatus.SUCCEEDED, first.error
    assert "Task posture.tasks.run_scan_task[" in celery_worker.output()
    assert Finding.objects.filter(cluster=cluster).count() == 7
    assert first.new_count == 7

    second = scan_in_worker(cluster, BROKEN, celery_worker)
    assert second.new_count == 0
    assert Finding.objects.filter(cluster=cluster).count() == 7

    fixed = scan_in_worker(cluster, FIXED, celery_worker)
    assert fixed.resolved_count == 7
    assert not Finding.objects.filter(cluster=cluster).exclude(status=FindingStatus.RESOLVED).exists()

    broken_again = scan_in_worker(cluster, BROKEN, celery_worker)
    assert broken_again.reopened_count == 7
    assert broken_again.new_count == 0
    assert Finding.objects.filter(cluster=cluster, status=FindingStatus.OPEN).count() == 7
