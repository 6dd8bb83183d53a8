from collections import Counter, defaultdict

from django.db import models
from django.db.models import Count


class FindingQuerySet(models.QuerySet):
    def for_user(self, user):
        from posture.models import Cluster

        return self.filter(cluster__in=Cluster.objects.for_user(user))

    def live(self):
        from findings.models import FindingStatus

        return self.filter(status__in=FindingStatus.live())

    def open(self):
        from findings.models import FindingStatus

        return self.filter(status__in=[FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED])

    def overdue(self, now):
        """Open or acknowledged findings past their SLA due date."""
        return self.open().filter(due_at__lt=now)


def severity_rank(field: str = "severity"):
    """Severity as a number, worst highest, so that lists sort critical > high > medium > low > info
    rather than alphabetically. ``field`` reaches it through a relation ("finding__severity")."""
    from django.db.models import Case, IntegerField, Value, When

    from posture.scanning.checks.registry import Severity

    return Case(
        *(When(**{field: severity.value}, then=Value(severity.rank)) for severity in Severity),
        default=Value(-1),
        output_field=IntegerField(),
    )


def counts_by_check(findings) -> dict[str, Counter]:
    """{check id: Counter(open=n, accepted=n)} in one aggregate query: the findings that need work
    (open or acknowledged) and, apart, the accepted risks. Pages show both, so that a check whose
    findings were all accepted does not read as "none open", nothing to worry about."""
    from findings.models import FindingStatus

    kinds = {
        FindingStatus.OPEN: "open",
        FindingStatus.ACKNOWLEDGED: "open",
        FindingStatus.RISK_ACCEPTED: "accepted",
    }
    rows = (
        findings.filter(status__in=list(kinds))
        .order_by()
        .values_list("check_id", "status")
        .annotate(count=Count("id"))
    )
    counts: dict[str, Counter] = defaultdict(Counter)
    for check_id, status, count in rows:
        counts[check_id][kinds[status]] += count
    return dict(counts)


def estimated_count(
    queryset, *, exact_below: int = 20_000, time_limit_ms: int | None = None
) -> tuple[int, bool]:
    """(count, exact): an exact count up to ``exact_below``, beyond it the planner's estimate.

    Counting a million rows on every page view costs more than the rest of the
    page; "about 412,000" is as useful to a person as the exact figure. The
    bounded count (COUNT over a LIMIT) stops reading at ``exact_below`` rows.
    ``time_limit_ms`` (PostgreSQL) also gives up on the exact count when it
    would take longer, e.g. a free-text filter that no index serves.
    """
    from django.core.exceptions import EmptyResultSet
    from django.db import OperationalError, connections, transaction

    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.order_by().count(), True
    try:
        if time_limit_ms is None:
            bounded = queryset.order_by()[:exact_below].count()
        else:
            with connection.cursor() as cursor:
                cursor.execute("SHOW statement_timeout")
                previous = cursor.fetchone()[0]
            with transaction.atomic(using=queryset.db):
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL statement_timeout = {int(time_limit_ms)}")
                bounded = queryset.order_by()[:exact_below].count()
                # SET LOCAL lasts to the end of the transaction: inside an outer one (a request
                # in ATOMIC_REQUESTS, a service, a test) every later query would inherit the limit.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
    except OperationalError:  # the time limit: too many rows to read for an exact figure
        bounded = None
    if bounded is not None and bounded < exact_below:
        return bounded, True
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return 0, True
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    # Past the bound there are at least that many; after a time-out all we have is the estimate.
    return (max(estimate, exact_below) if bounded is not None else estimate), False


def cached_counts_by_check(cluster_ids, *, version: str = "", seconds: int = 60) -> dict[str, Counter]:
    """counts_by_check over these clusters, kept for a minute (see cached_for_clusters).

    The aggregate reads every open finding (a quarter of a second at a million);
    the overview and the checks page show it on every visit.
    """
    from findings.models import Finding

    ids = sorted(cluster_ids)
    return cached_for_clusters(
        "findings:counts-by-check",
        ids,
        lambda: counts_by_check(Finding.objects.filter(cluster_id__in=ids)),
        version=version,
        seconds=seconds,
    )


def cached_for_clusters(name: str, cluster_ids, compute, *, version: str = "", seconds: int = 60):
    """``compute()``, an aggregate over these clusters' findings, kept for ``seconds``.

    ``version`` should change whenever the answer may (the clusters' latest scans); triage bumps
    TRIAGE_VERSION_KEY when it commits. Keyed by the database too: one cache may serve several
    (tests, benchmarks).
    """
    import hashlib

    from django.core.cache import cache
    from django.db import connection

    triage_version = cache.get(TRIAGE_VERSION_KEY, 0)
    scope = repr((connection.settings_dict["NAME"], sorted(cluster_ids), version, triage_version))
    key = f"{name}:" + hashlib.sha256(scope.encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, seconds)
    return found


TRIAGE_VERSION_KEY = "findings:triage-version"


def triage_changed() -> None:
    """Forget the cached aggregates (cached_for_clusters) after a status change or an assignment."""
    from django.core.cache import cache

    try:
        cache.incr(TRIAGE_VERSION_KEY)
    except ValueError:  # not set yet
        cache.set(TRIAGE_VERSION_KEY, 1, None)


def accepted_risks_by_severity(clusters) -> dict[int, Counter]:
    """{cluster id: Counter(severity: n)} of the accepted risks its latest scan's summary counts.

    A summary's counts by severity include accepted risks; the findings that still need work
    are those counts less these. Accepted risks are few, and only clusters that have any are read.
    """
    from findings.models import Finding, FindingStatus

    scans = {c.pk: c.last_scan_id for c in clusters if c.last_scan_id and c.last_scan.accepted_risk_count}
    by_cluster: dict[int, Counter] = defaultdict(Counter)
    if scans:
        rows = (
            Finding.objects.filter(  # an index-only scan of the partial index finding_accepted
                cluster_id__in=list(scans),
                status=FindingStatus.RISK_ACCEPTED,
                last_seen_scan_id__in=list(scans.values()),
            )
            .order_by()
            .values_list("cluster_id", "severity")
            .annotate(n=Count("*"))  # not Count("pk"): the id is not in the index that answers
        )
        for cluster_id, severity, count in rows:
            by_cluster[cluster_id][severity] += count
    return by_cluster
