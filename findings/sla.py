"""Service-level targets: how long a finding of each severity may stay open."""

from datetime import datetime, timedelta

from django.conf import settings


def due_at(severity: str, since: datetime) -> datetime:
    days = settings.RAMPART_SLA_DAYS.get(severity, settings.RAMPART_SLA_DAYS["low"])
    return since + timedelta(days=days)
