"""Thin Celery tasks: take ids, hand off to services."""

import logging

from celery import shared_task

from posture import pausing, services
from posture.models import Cluster, ScanTrigger

logger = logging.getLogger(__name__)


@shared_task(name="posture.tasks.run_scan_task")
def run_scan_task(scan_id: int) -> None:
    services.run_scan(scan_id)


@shared_task(name="posture.tasks.scheduled_scan_task")
def scheduled_scan_task(cluster_id: int) -> None:
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return
    try:
        services.start_requested_scan(cluster, trigger=ScanTrigger.SCHEDULE)
    except pausing.ClusterPaused as exc:
        # Beat's task is disabled while paused; this one was queued before the pause (or beat had not
        # yet seen it change).
        logger.info("scheduled scan of cluster %s skipped: %s", cluster_id, exc)
    except services.ScanAlreadyActive:
        logger.info("scheduled scan of cluster %s skipped: one is already active", cluster_id)
    except services.NothingToScan:
        logger.info("scheduled scan of cluster %s skipped: no snapshot uploaded yet", cluster_id)


@shared_task(name="posture.tasks.reap_stale_scans_task")
def reap_stale_scans_task() -> int:
    return services.reap_stale_scans()


@shared_task(name="posture.tasks.prune_old_detail_task")
def prune_old_detail_task() -> dict:
    return services.prune_old_detail()


@shared_task(name="posture.tasks.resume_due_pauses_task")
def resume_due_pauses_task() -> int:
    return pausing.resume_due_pauses()
