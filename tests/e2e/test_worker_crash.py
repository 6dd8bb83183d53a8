"""A worker killed with SIGKILL mid-scan: nothing of it is stored, the reaper fails it, the next one works."""

from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from findings.models import Finding
from posture import services
from posture.models import Scan, ScanStatus
from posture.models.scans import ScanPhase
from tests.e2e.conftest import _database_url, start_worker, wait_for
from tests.factories import as_yaml, deployment, make_lifecycle_cluster, make_team


def backend_waiting_on_cluster_update(conn) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query LIKE 'UPDATE \"posture_cluster\"%%'"
    ).fetchone()
    return row[0] > 0


def test_a_worker_killed_mid_scan_leaves_no_findings_and_the_reaper_fails_the_scan(
    tmp_path, real_broker, transactional_db
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    cluster = make_lifecycle_cluster(make_team("Shop"), name="shop-prod")
    data = as_yaml(*[deployment(f"app-{n}", privileged=True) for n in range(200)])
    worker = start_worker(tmp_path)
    # Hold the cluster row so that the worker's scan transaction, with every
    # finding already inserted, waits at its last statement: then kill it.
    with psycopg.connect(_database_url(), autocommit=False) as blocker:
        blocker.execute("SELECT id FROM posture_cluster WHERE id = %s FOR NO KEY UPDATE", [cluster.pk])
        scan = services.start_scan(cluster, snapshot=services.store_snapshot(cluster, data))
        with psycopg.connect(_database_url(), autocommit=True) as observer:
            wait_for(
                lambda: backend_waiting_on_cluster_update(observer), message="the scan to reach its commit"
            )
        assert Scan.objects.get(pk=scan.pk).phase == ScanPhase.STORING
        worker.kill()
        blocker.rollback()

    # The killed worker's transaction is rolled back by PostgreSQL.
    wait_for(lambda: not Finding.objects.filter(cluster=cluster).exists(), timeout=10, message="rollback")
    scan.refresh_from_db()
    assert scan.status == ScanStatus.RUNNING  # nobody has said otherwise yet
    assert not Finding.objects.filter(first_seen_scan=scan).exists()

    reaped = services.reap_stale_scans(
        now=scan.started_at + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 120)
    )
    assert reaped == 1
    scan.refresh_from_db()
    assert scan.status == ScanStatus.FAILED
    assert "stopped (killed, out of memory or lost)" in scan.error

    replacement = start_worker(tmp_path)
    try:
        next_scan = services.start_scan(cluster)
        wait_for(
            lambda: Scan.objects.get(pk=next_scan.pk).status in ScanStatus.finished(), message="next scan"
        )
        next_scan.refresh_from_db()
        assert next_scan.status == ScanStatus.SUCCEEDED, next_scan.error
        assert Finding.objects.filter(cluster=cluster).count() == 800
    finally:
        replacement.kill()
