"""Where a cluster stood at the end of each day: the one rule behind every trend Rampart draws or serves.

A cluster's state on a day is its last scored scan finished by the end of that day, carried forward
over days without a scan. So the fleet's average does not jump when clusters on different schedules
are scanned on different days (a weekly cluster neither drops out between its scans nor counts alone
on the day it is scanned), and a day with two scans ends on the second, as the cluster's score tile
does. Days are calendar days in Rampart's time zone (``TIME_ZONE``), as pages print dates.

The overview's sparklines and fleet line (posture.views) and the API's trends (posture.api.trends)
both read it, so a dashboard built on the API draws the line the overview draws.
"""

from collections.abc import Iterable
from datetime import date, datetime, time

from django.db.models import OuterRef, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from posture.models import Cluster, Scan, ScanStatus

SCORED = (ScanStatus.SUCCEEDED, ScanStatus.PARTIAL)


def start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def standing_before(cluster_ids: list[int], moment: datetime, fields: tuple[str, ...]) -> dict[int, tuple]:
    """{cluster id: ``fields`` of its last scored scan finished before ``moment``}, where there is one."""
    last = Scan.objects.filter(cluster=OuterRef("pk"), status__in=SCORED, finished_at__lt=moment).order_by(
        "-finished_at", "-id"
    )
    rows = (
        Cluster.objects.filter(pk__in=cluster_ids)
        .annotate(
            last=Subquery(last.values("pk")[:1]),
            **{f"last_{field}": Subquery(last.values(field)[:1]) for field in fields},
        )
        .values_list("pk", "last", *(f"last_{field}" for field in fields))
    )
    return {cluster_id: tuple(values) for cluster_id, scan_id, *values in rows if scan_id}


def scans_since(cluster_ids: list[int], moment: datetime, fields: tuple[str, ...]) -> Iterable[tuple]:
    """(cluster id, day, *fields) of every scored scan finished since ``moment``, oldest first."""
    # The database turns instants into days (in the current time zone, as TruncDate does): 3-4x
    # faster than converting each one in Python, and the overview reads 18,000 rows for 90 days.
    return (
        Scan.objects.filter(cluster_id__in=cluster_ids, status__in=SCORED, finished_at__gte=moment)
        .order_by("finished_at", "id")
        .annotate(day=TruncDate("finished_at"))
        .values_list("cluster_id", "day", *fields)
        .iterator(chunk_size=2000)
    )


def daily_scores(cluster_ids: list[int], days: list[date]) -> dict[int, list[float | None]]:
    """Each cluster's score at the end of each of ``days`` (consecutive, oldest first); None before its
    first scored scan. Clusters never scored by the last day are left out."""
    if not days:
        return {}
    opening = standing_before(cluster_ids, start_of(days[0]), ("score",))
    standing = {cluster_id: score for cluster_id, (score,) in opening.items()}
    # The last scan of each day wins: rows come oldest first.
    day_ends: dict[date, dict[int, float | None]] = {}
    for cluster_id, day, score in scans_since(cluster_ids, start_of(days[0]), ("score",)):
        day_ends.setdefault(day, {})[cluster_id] = score
    series: dict[int, list[float | None]] = {}
    for index, day in enumerate(days):
        standing.update(day_ends.get(day, {}))
        for cluster_id, score in standing.items():
            series.setdefault(cluster_id, [None] * len(days))[index] = score
    return series


def fleet_average(series: dict[int, list[float | None]], length: int) -> list[float | None]:
    """The mean, day by day, of the clusters that had a score by then."""
    fleet = []
    for index in range(length):
        known = [values[index] for values in series.values() if values[index] is not None]
        fleet.append(round(sum(known) / len(known), 1) if known else None)
    return fleet
