"""Trends and the dashboard summary, read from each scan's summary row.

Only mean time to resolve reads findings (resolved ones, in the window). Every
other number comes from Scan rows: the state of a cluster in a bucket is its
last scored scan up to the end of that bucket, carried forward across buckets
without a scan (posture.score_history, the rule the overview draws by too).
"""

import hashlib
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db.models import Avg, DurationField, ExpressionWrapper, F, OuterRef, Subquery
from django.db.models.functions import TruncDay, TruncWeek
from django.utils import timezone

from findings.models import Finding, FindingStatus
from findings.querysets import accepted_risks_by_severity, estimated_count
from findings.summary import grade_for
from posture import score_history
from posture.models import Scan, ScanStatus


def _bucket_of(day: date, bucket: str) -> date:
    return day - timedelta(days=day.weekday()) if bucket == "week" else day


def _buckets(since: date, until: date, bucket: str) -> list[date]:
    step = timedelta(days=7 if bucket == "week" else 1)
    current, found = _bucket_of(since, bucket), []
    while current <= until:
        found.append(current)
        current += step
    return found


STATE_FIELDS = ("score", "counts_by_severity", "accepted_by_severity")


def series(clusters, scope: str, *, bucket: str = "day", days: int = 30, now: datetime | None = None) -> dict:
    """The fleet's state at the end of each bucket, by score_history's rule, with what moved in it."""
    now = now or timezone.now()
    until = timezone.localdate(now)
    since = until - timedelta(days=days - 1)
    since_at = score_history.start_of(_bucket_of(since, bucket))
    cluster_ids = list(clusters.values_list("pk", flat=True))

    state = score_history.standing_before(cluster_ids, since_at, STATE_FIELDS)
    last_in_bucket: dict[date, dict[int, tuple]] = defaultdict(dict)
    new: Counter = Counter()
    resolved: Counter = Counter()
    moves = ("new_count", "resolved_count")
    for cluster_id, day, score, counts, accepted, new_count, resolved_count in score_history.scans_since(
        cluster_ids, since_at, STATE_FIELDS + moves
    ):
        key = _bucket_of(day, bucket)
        last_in_bucket[key][cluster_id] = (score, counts, accepted)
        new[key] += new_count
        resolved[key] += resolved_count

    mttr = _mean_time_to_resolve(cluster_ids, since_at, bucket)
    points = []
    for key in _buckets(since, until, bucket):
        state.update(last_in_bucket.get(key, {}))
        scores = [score for score, _, _ in state.values() if score is not None]
        by_severity: Counter = Counter()
        for _, counts, accepted in state.values():
            by_severity.update({severity: int(count) for severity, count in (counts or {}).items()})
            by_severity.subtract({severity: int(count) for severity, count in (accepted or {}).items()})
        by_severity = +by_severity  # what still needs work: none below zero, none listed at zero
        points.append(
            {
                "bucket": key,
                "score": round(sum(scores) / len(scores), 1) if scores else None,
                "open_by_severity": dict(by_severity),
                "open_total": sum(by_severity.values()),
                "new": new[key],
                "resolved": resolved[key],
                "mean_time_to_resolve_hours": mttr.get(key),
                "clusters": len(state),
            }
        )
    return {"scope": scope, "bucket": bucket, "since": since, "until": until, "points": points}


def _mean_time_to_resolve(cluster_ids: list[int], since_at: datetime, bucket: str) -> dict[date, float]:
    trunc = TruncWeek if bucket == "week" else TruncDay
    rows = (
        Finding.objects.filter(
            cluster_id__in=cluster_ids, status=FindingStatus.RESOLVED, resolved_at__gte=since_at
        )
        .order_by()
        .annotate(bucket=trunc("resolved_at", tzinfo=timezone.get_current_timezone()))
        .values("bucket")
        .annotate(
            mean=Avg(ExpressionWrapper(F("resolved_at") - F("first_seen_at"), output_field=DurationField()))
        )
    )
    found = {}
    for row in rows:
        if row["mean"] is not None and row["bucket"] is not None:
            moment = row["bucket"]
            key = moment.date() if isinstance(moment, datetime) else moment
            found[key] = round(row["mean"].total_seconds() / 3600, 2)
    return found


def _overdue(clusters, now: datetime) -> dict:
    # Counting hundreds of thousands of rows costs more than the rest of the summary;
    # above 20,000 the planner's estimate is as useful on a dashboard.
    ids = list(clusters.values_list("pk", flat=True))
    count, exact = estimated_count(Finding.objects.filter(cluster_id__in=ids).overdue(now))
    return {"overdue": count, "overdue_is_estimate": not exact}


def cached(key_parts: tuple, compute, seconds: int = 60):
    """Dashboards poll; a minute-old trend is as good. Keyed by everything the answer depends on."""
    from django.db import connection

    scope = (connection.settings_dict["NAME"], *key_parts)  # one cache may serve several databases
    key = "api:" + hashlib.sha256(repr(scope).encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, seconds)
    return found


def summary(clusters, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    latest_status = (
        Scan.objects.filter(cluster=OuterRef("pk"), status__in=ScanStatus.finished())
        .order_by("-finished_at", "-id")
        .values("status")[:1]
    )
    rows = list(
        clusters.select_related("team", "last_scan")
        .annotate(latest_status=Subquery(latest_status))
        .order_by("name")
    )
    # A scan's counts by severity include its accepted risks; the summary's open findings, like the
    # overview's, are those that still need work: open or acknowledged.
    accepted_by_cluster = accepted_risks_by_severity(rows)
    per_cluster, totals, accepted, scores = [], Counter(), 0, []
    for cluster in rows:
        scan = cluster.last_scan
        counts = {
            severity: int(count) - accepted_by_cluster[cluster.pk][severity]
            for severity, count in ((scan.counts_by_severity if scan else {}) or {}).items()
        }
        counts = {severity: count for severity, count in counts.items() if count > 0}
        totals.update(counts)
        accepted += scan.accepted_risk_count if scan else 0
        if scan and scan.score is not None:
            scores.append(scan.score)
        per_cluster.append(
            {
                "id": cluster.pk,
                "name": cluster.name,
                "team": cluster.team.slug,
                "score": scan.score if scan else None,
                "grade": scan.grade if scan else "",
                "last_scan_status": cluster.latest_status,
                "last_scan_finished_at": scan.finished_at if scan else None,
                "open_by_severity": counts,
                "accepted_risk": scan.accepted_risk_count if scan else 0,
                "paused_at": cluster.paused_at,
            }
        )
    mean = round(sum(scores) / len(scores), 1) if scores else None
    return {
        "clusters": len(rows),
        "scanned_clusters": sum(1 for cluster in rows if cluster.last_scan_id),
        "mean_score": mean,
        "grade": grade_for(mean),
        "open_by_severity": dict(totals),
        "open_total": sum(totals.values()),
        "accepted_risk": accepted,
        **_overdue(clusters, now),
        "failed_last_scans": sum(1 for cluster in rows if cluster.latest_status == ScanStatus.FAILED),
        "per_cluster": per_cluster,
    }
