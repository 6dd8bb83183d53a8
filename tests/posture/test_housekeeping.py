from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from findings.models import Finding, FindingStatus
from posture import schedules, services
from posture.models import Scan, ScanStatus, Snapshot
from tests.factories import as_yaml, deployment, make_cluster, scan_snapshot

pytestmark = pytest.mark.django_db


def test_the_reaper_fails_running_scans_past_the_hard_limit_only(cluster, team, settings):
    now = timezone.now()
    limit = settings.CELERY_TASK_TIME_LIMIT + settings.RAMPART_REAPER_GRACE_SECONDS
    lost = Scan.objects.create(
        cluster=cluster,
        status=ScanStatus.RUNNING,
        created_at=now,
        started_at=now - timedelta(seconds=limit + 5),
    )
    other = make_cluster(team, name="busy")
    busy = Scan.objects.create(
        cluster=other, status=ScanStatus.RUNNING, created_at=now, started_at=now - timedelta(seconds=30)
    )
    assert services.reap_stale_scans(now) == 1
    lost.refresh_from_db()
    busy.refresh_from_db()
    assert lost.status == ScanStatus.FAILED
    assert "worker running this scan stopped" in lost.error
    assert busy.status == ScanStatus.RUNNING


def test_the_reaper_fails_scans_no_worker_picked_up(cluster, settings):
    now = timezone.now()
    stuck = Scan.objects.create(
        cluster=cluster, created_at=now - timedelta(seconds=settings.RAMPART_QUEUED_SCAN_TIMEOUT + 1)
    )
    services.reap_stale_scans(now)
    stuck.refresh_from_db()
    assert stuck.status == ScanStatus.FAILED
    assert "'scans' queue" in stuck.error


def test_transient_collection_errors_are_retried_before_the_scan_fails(cluster, monkeypatch, settings):
    from posture.scanning.collectors.errors import TransientCollectionError
    from posture.scanning.inventory import Inventory

    settings.RAMPART_SCAN_RETRY_DELAYS = [0, 0]
    attempts = []

    def flaky(scan):
        attempts.append(1)
        if len(attempts) < 3:
            raise TransientCollectionError("connection reset by the API server")
        return Inventory.from_objects([deployment("web")])

    monkeypatch.setattr(services, "collect", flaky)
    scan = services.run_scan(services.start_scan(cluster, enqueue=False).pk)
    assert len(attempts) == 3
    assert scan.status == ScanStatus.SUCCEEDED


def test_a_persistent_transient_error_fails_the_scan_with_its_reason(cluster, monkeypatch, settings):
    from posture.scanning.collectors.errors import TransientCollectionError

    settings.RAMPART_SCAN_RETRY_DELAYS = [0]

    def down(scan):
        raise TransientCollectionError("the API server at https://10.0.0.1:6443 refused the connection")

    monkeypatch.setattr(services, "collect", down)
    scan = services.run_scan(services.start_scan(cluster, enqueue=False).pk)
    assert scan.status == ScanStatus.FAILED
    assert scan.error == "the API server at https://10.0.0.1:6443 refused the connection"


def test_retention_prunes_old_detail_but_keeps_summaries(cluster, settings):
    settings.RAMPART_RETENTION_DAYS = 30
    old = timezone.now() - timedelta(days=60)
    first = scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)), now=old)
    scan_snapshot(cluster, as_yaml(deployment("web", hardened=True)), now=old + timedelta(days=1))
    Snapshot.objects.update(uploaded_at=old)  # uploaded along with the old scans
    latest = scan_snapshot(cluster, as_yaml(deployment("web", hardened=True)))
    assert Finding.objects.filter(status=FindingStatus.RESOLVED).count() == 4

    pruned = services.prune_old_detail()
    assert pruned["findings"] >= 4
    assert pruned["snapshots"] == 2
    assert cluster.snapshots.count() == 1
    first.refresh_from_db()
    assert first.score is not None
    assert first.counts_by_severity
    assert first.counts_by_namespace == {}
    assert Scan.objects.filter(pk=latest.pk, counts_by_namespace__isnull=False).exists()


def test_a_cron_schedule_is_written_for_celery_beat(team):
    cluster = make_cluster(team, name="nightly", scan_cron="0 3 * * 1-5")
    task = PeriodicTask.objects.get(name=schedules.schedule_name(cluster))
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "3", "1-5")
    assert task.interval is None
    cluster.scan_cron = ""
    services.save_cluster(cluster)
    assert not PeriodicTask.objects.filter(name=schedules.schedule_name(cluster)).exists()


@pytest.mark.parametrize(
    "expression", ["* * *", "61 * * * *", "0 25 * * *", "a b c d e", "0 0 31 2 *", "0 0 30 2 *"]
)
def test_invalid_cron_expressions_are_refused_with_a_reason(expression):
    with pytest.raises(schedules.InvalidCron):
        schedules.parse_cron(expression)


@pytest.mark.parametrize("expression", ["0 0 29 2 *", "0 0 13 * 5", "0 3 * * 1-5", "0 0 29 2 1"])
def test_rare_but_real_dates_are_accepted(expression):
    assert schedules.parse_cron(expression)["minute"] == "0"


def test_the_housekeeping_tasks_are_on_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "posture.tasks.reap_stale_scans_task",
        "findings.tasks.expire_risk_acceptances_task",
        "posture.tasks.prune_old_detail_task",
    } <= tasks
