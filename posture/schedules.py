"""Per-cluster scan schedules in Celery beat's database (django-celery-beat)."""

import json

from celery.schedules import ParseException, crontab_parser

SCHEDULE_TASK = "posture.tasks.scheduled_scan_task"
_CRON_FIELDS = (("minute", 60, 0), ("hour", 24, 0), ("day_of_month", 31, 1), ("month_of_year", 12, 1),
                ("day_of_week", 7, 0))  # fmt: skip


class InvalidCron(ValueError):
    pass


def parse_cron(expression: str) -> dict[str, str]:
    """'0 3 * * 1-5' → {"minute": "0", "hour": "3", ...}; a message for the user if it is not valid."""
    parts = expression.split()
    if len(parts) != 5:
        raise InvalidCron("a cron expression has five fields: minute hour day-of-month month day-of-week")
    fields = {}
    for (name, max_value, min_value), part in zip(_CRON_FIELDS, parts, strict=True):
        try:
            crontab_parser(max_value, min_value).parse(part)
        except (ParseException, ValueError):
            raise InvalidCron(f"{name.replace('_', ' ')} {part!r} is not valid") from None
        fields[name] = part
    return fields


def schedule_name(cluster) -> str:
    return f"rampart:scan-cluster:{cluster.pk}"


def sync_schedule(cluster) -> None:
    """Make beat's schedule match the cluster: an interval, a cron expression, or nothing."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    name = schedule_name(cluster)
    if not cluster.scan_interval_minutes and not cluster.scan_cron:
        PeriodicTask.objects.filter(name=name).delete()
        return
    interval = crontab = None
    if cluster.scan_cron:
        crontab, _ = CrontabSchedule.objects.get_or_create(**parse_cron(cluster.scan_cron), timezone="UTC")
    else:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=cluster.scan_interval_minutes, period=IntervalSchedule.MINUTES
        )
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "task": SCHEDULE_TASK,
            "interval": interval,
            "crontab": crontab,
            "args": json.dumps([cluster.pk]),
            "queue": "scans",
            "enabled": True,
        },
    )
