"""Thin Celery tasks of the findings app."""

from celery import shared_task

from findings import triage


@shared_task(name="findings.tasks.expire_risk_acceptances_task")
def expire_risk_acceptances_task() -> int:
    return triage.expire_risk_acceptances()
