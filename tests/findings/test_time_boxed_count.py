"""A free-text search counts its matches under a short time limit; the rest of the request keeps its own."""

import pytest
from django.db import connection

from findings.models import Finding
from findings.querysets import estimated_count
from tests.api.helpers import make_findings

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the time limit is PostgreSQL's")


def statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


def test_a_time_boxed_count_leaves_the_time_limit_as_it_found_it_inside_a_transaction(cluster):
    # Each test runs inside a transaction, as a page would inside transaction.atomic(): the
    # count's SET LOCAL outlived its savepoint, and every later query of the request had 25 ms.
    make_findings(cluster, 3, namespace="shop")
    before = statement_timeout()
    count, exact = estimated_count(Finding.objects.filter(namespace__icontains="sho"), time_limit_ms=25)
    assert (count, exact) == (3, True)
    assert statement_timeout() == before
