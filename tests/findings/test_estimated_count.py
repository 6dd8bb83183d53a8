"""How many findings a list says it holds: exact when few, "about N" past the bound, and a time
limit on the exact count that ends with the count."""

import pytest
from django.db import connection, transaction

from findings.models import Finding
from findings.querysets import estimated_count
from tests.api.helpers import make_findings

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="time limits and estimates are PostgreSQL's"
)


def test_few_rows_are_counted_exactly(cluster):
    make_findings(cluster, 7)
    assert estimated_count(Finding.objects.all(), exact_below=10) == (7, True)


@postgresql_only
def test_past_the_bound_the_count_is_an_estimate_of_at_least_the_bound(cluster):
    make_findings(cluster, 30)
    count, exact = estimated_count(Finding.objects.all(), exact_below=10)
    assert not exact
    assert count >= 10


@postgresql_only
def test_the_time_limit_of_a_count_does_not_outlive_it_inside_a_transaction(cluster):
    make_findings(cluster, 3)
    with transaction.atomic():
        assert estimated_count(Finding.objects.all(), time_limit_ms=25) == (3, True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.1)")  # slower than the count's limit, and not a count
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] != "25ms"
