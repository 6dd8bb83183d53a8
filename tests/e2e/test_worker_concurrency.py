"""At most one scan per cluster, even when triggers race and tasks are delivered twice."""

import threading

from django.db import connection

from posture import services
from posture.models import Scan, ScanStatus
from posture.tasks import run_scan_task
from tests.e2e.conftest import wait_for
from tests.factories import as_yaml, deployment, make_lifecycle_cluster, make_team


def test_two_scans_triggered_at_once_run_one_and_refuse_the_other(celery_worker):
    cluster = make_lifecycle_cluster(make_team("Shop"), name="shop-prod")
    snapshot = services.store_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    barrier = threading.Barrier(2)
    outcomes = []

    def trigger():
        barrier.wait()
        try:
            outcomes.append(services.start_scan(cluster, snapshot=snapshot))
        except services.ScanAlreadyActive as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=trigger) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    started = [o for o in outcomes if isinstance(o, Scan)]
    refused = [o for o in outcomes if isinstance(o, services.ScanAlreadyActive)]
    assert len(started) == 1
    assert len(refused) == 1
    assert "already queued or running" in str(refused[0])
    scan = started[0]
    wait_for(
        lambda: Scan.objects.get(pk=scan.pk).status in ScanStatus.finished(), message="the scan to finish"
    )
    assert Scan.objects.filter(cluster=cluster).count() == 1
    assert Scan.objects.get(pk=scan.pk).status == ScanStatus.SUCCEEDED


def test_a_task_delivered_twice_runs_the_scan_once(celery_worker):
    cluster = make_lifecycle_cluster(make_team("Shop"), name="shop-prod")
    snapshot = services.store_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    scan = services.start_scan(cluster, snapshot=snapshot, enqueue=False)
    run_scan_task.delay(scan.pk)
    run_scan_task.delay(scan.pk)
    wait_for(
        lambda: celery_worker.output().count("succeeded in") >= 2, message="both deliveries to be handled"
    )
    scan.refresh_from_db()
    assert scan.status == ScanStatus.SUCCEEDED
    assert scan.new_count == 4
    assert f"scan {scan.pk} already claimed or finished; skipping" in celery_worker.output()
