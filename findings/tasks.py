"""Thin Celery tasks of the findings app."""

from celery import shared_task

from findings import summary, triage


@shared_task(name="findings.tasks.expire_risk_acceptances_task")
def expire_risk_acceptances_task() -> int:
    return triage.expire_risk_acceptances()


@shared_task(name="findings.tasks.recount_latest_scans_task")
def recount_latest_scans_task(cluster_ids: list[int]) -> None:
    summary.recount_latest_scans(cluster_ids)
