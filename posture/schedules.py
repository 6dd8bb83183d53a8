"""Per-cluster scan schedules in Celery beat's database (django-celery-beat)."""

import json
from datetime import date, timedelta

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
    if not _has_a_day(fields):
        raise InvalidCron("no date matches its day of month, month and day of week (it would never run)")
    return fields


def _has_a_day(fields: dict[str, str]) -> bool:
    """Whether some date matches, as Celery reads the fields: day of month AND month AND weekday.

    The calendar's days of the week repeat every 28 years (within a century), so 28 years from a
    leap year hold every combination there is, 29 February on a given weekday included.
    """
    days = crontab_parser(31, 1).parse(fields["day_of_month"])
    months = crontab_parser(12, 1).parse(fields["month_of_year"])
    weekdays = crontab_parser(7).parse(fields["day_of_week"])  # 0 is Sunday
    day = date(2024, 1, 1)
    for _ in range(28 * 366):
        if day.month in months and day.day in days and day.isoweekday() % 7 in weekdays:
            return True
        day += timedelta(days=1)
    return False


def schedule_name(cluster) -> str:
    return f"rampart:scan-cluster:{cluster.pk}"


def sync_schedule(cluster) -> None:
    """Make beat's schedule match the cluster: an interval, a cron expression, or nothing.

    A paused cluster keeps its task, disabled: resuming enables it again as it was.
    """
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
            "enabled": cluster.paused_at is None,
        },
    )
