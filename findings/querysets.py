from django.db import models


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


def severity_rank():
    """Severity as a number, worst highest, so that lists sort critical > high > medium > low > info
    rather than alphabetically."""
    from django.db.models import Case, IntegerField, Value, When

    from posture.scanning.checks.registry import Severity

    return Case(
        *(When(severity=severity.value, then=Value(severity.rank)) for severity in Severity),
        default=Value(-1),
        output_field=IntegerField(),
    )


def open_counts_by_check(findings) -> dict[str, int]:
    """Open (or acknowledged) findings per check id, in one aggregate query."""
    from django.db.models import Count

    rows = findings.open().order_by().values_list("check_id").annotate(count=Count("id"))
    return dict(rows)


def estimated_count(queryset, *, exact_below: int = 20_000) -> tuple[int, bool]:
    """(count, exact): an exact count up to ``exact_below``, beyond it the planner's estimate.

    Counting a million rows on every page view costs more than the rest of the
    page; "about 412,000" is as useful to a person as the exact figure. The
    bounded count (COUNT over a LIMIT) stops reading at ``exact_below`` rows.
    """
    from django.core.exceptions import EmptyResultSet
    from django.db import connections

    bounded = queryset.order_by()[:exact_below].count()
    connection = connections[queryset.db]
    if bounded < exact_below or connection.vendor != "postgresql":
        return (bounded, True) if bounded < exact_below else (queryset.order_by().count(), True)
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
    return max(int(plan[0]["Plan"]["Plan Rows"]), exact_below), False
