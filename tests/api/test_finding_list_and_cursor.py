from datetime import timedelta

import pytest
from django.utils import timezone

from findings.models import Finding
from posture.api.pagination import _encode
from tests.api.helpers import assert_error, make_findings

pytestmark = pytest.mark.django_db


def _walk(api_client, params):
    seen, url, pages = [], "/api/v1/findings/", 0
    while url:
        body = api_client.get(url, params if pages == 0 else None).json()
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
    return seen, pages


def test_the_cursor_walks_every_finding_once_in_order(api, viewer, cluster):
    make_findings(cluster, 23)
    ids, pages = _walk(api(viewer), {"page_size": 5})
    assert ids == sorted(Finding.objects.values_list("id", flat=True), reverse=True)
    assert pages == 5


def test_findings_inserted_while_paging_neither_shift_nor_repeat_rows(api, viewer, cluster):
    make_findings(cluster, 10)
    client = api(viewer)
    first = client.get("/api/v1/findings/", {"page_size": 4}).json()
    make_findings(cluster, 6)  # a scan lands between two pages
    second = client.get(first["next"]).json()
    before = [row["id"] for row in first["results"]]
    after = [row["id"] for row in second["results"]]
    assert not set(before) & set(after)
    assert after[0] < before[-1]
    assert after == sorted(after, reverse=True)


def test_the_previous_link_returns_to_the_page_before(api, viewer, cluster):
    make_findings(cluster, 12)
    client = api(viewer)
    first = client.get("/api/v1/findings/", {"page_size": 5}).json()
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()
    assert [row["id"] for row in back["results"]] == [row["id"] for row in first["results"]]


def test_ordering_by_last_seen_pages_through_ties_by_id(api, viewer, cluster):
    make_findings(cluster, 9)  # all with the same last_seen_at
    ids, _ = _walk(api(viewer), {"page_size": 4, "ordering": "last_seen_at"})
    assert ids == sorted(Finding.objects.values_list("id", flat=True))


def test_the_list_uses_the_same_filters_as_the_html_page(api, viewer, cluster):
    make_findings(cluster, 3, severity="critical", namespace="payments")
    make_findings(cluster, 4, severity="low", namespace="shop")
    client = api(viewer)
    critical = client.get("/api/v1/findings/", {"severity": "critical"}).json()["results"]
    assert len(critical) == 3
    assert {row["namespace"] for row in critical} == {"payments"}
    assert (
        len(client.get("/api/v1/findings/", {"namespace": "shop", "status": "open"}).json()["results"]) == 4
    )
    assert len(client.get("/api/v1/findings/", {"severity": ["critical", "low"]}).json()["results"]) == 7


def test_bad_filters_cursors_and_orderings_are_invalid_input(api, viewer, cluster):
    make_findings(cluster, 2)
    client = api(viewer)
    assert_error(client.get("/api/v1/findings/", {"severity": "apocalyptic"}), 400, "invalid")
    assert_error(client.get("/api/v1/findings/", {"cursor": "not-a-cursor"}), 400, "invalid")
    assert_error(client.get("/api/v1/findings/", {"cursor": "eyJvIjoiaWQifQ"}), 400, "invalid")
    assert_error(client.get("/api/v1/findings/", {"ordering": "message"}), 400, "invalid")
    assert_error(client.get("/api/v1/findings/", {"page_size": "lots"}), 400, "invalid")
    assert_error(client.get("/api/v1/findings/", {"cluster": "abc"}), 400, "invalid")
    assert_error(client.get("/api/v1/findings/", {"overdue": "maybe"}), 400, "invalid")
    for impossible in ("2026-13-45T00:00:00", "2026-01-01T00:00:00+99:00"):
        cursor = _encode({"o": "-last_seen_at", "id": 1, "v": impossible})
        response = client.get("/api/v1/findings/", {"cursor": cursor, "ordering": "-last_seen_at"})
        assert_error(response, 400, "invalid")


def test_overdue_takes_yes_and_no_as_libraries_write_them(api, viewer, cluster):
    make_findings(cluster, 3)
    make_findings(cluster, 2, due_at=timezone.now() - timedelta(days=1))
    client = api(viewer)
    for yes in ("true", "True", "1", "yes", "on"):
        assert len(client.get("/api/v1/findings/", {"overdue": yes}).json()["results"]) == 2, yes
    for no in ("false", "0", "no", "OFF"):
        assert len(client.get("/api/v1/findings/", {"overdue": no}).json()["results"]) == 3, no
    assert len(client.get("/api/v1/findings/", {"overdue": ""}).json()["results"]) == 5


def test_a_cursor_of_another_ordering_is_refused(api, viewer, cluster):
    make_findings(cluster, 4)
    client = api(viewer)
    cursor = client.get("/api/v1/findings/", {"page_size": 2}).json()["next"].split("cursor=")[1]
    assert_error(client.get("/api/v1/findings/", {"cursor": cursor, "ordering": "last_seen_at"}), 400)


def test_findings_of_another_team_never_appear(api, outsider, cluster):
    make_findings(cluster, 3)
    assert api(outsider).get("/api/v1/findings/").json()["results"] == []


def test_multiple_choice_filters_do_not_make_postgresql_sort_every_match(api, viewer, cluster):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_findings(cluster, 3, severity="critical")
    client = api(viewer)
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/findings/", {"severity": ["critical", "high"], "status": "open"}).json()
    assert len(body["results"]) == 3
    listing = [q["sql"] for q in queries.captured_queries if 'FROM "findings_finding"' in q["sql"]]
    assert listing
    assert all("DISTINCT" not in sql for sql in listing)


def test_object_names_one_object_exactly_and_refuses_what_names_none(api, viewer, scanned):
    client = api(viewer)
    web = client.get("/api/v1/findings/", {"object": "Deployment/shop/web"}).json()["results"]
    assert web
    assert {(row["kind"], row["namespace"], row["name"]) for row in web} == {("Deployment", "shop", "web")}
    assert client.get("/api/v1/findings/", {"object": "Deployment/shop/we"}).json()["results"] == []
    for unclear in ("web", "shop/web", "Deployment/shop/web/extra", "/shop/web"):
        assert_error(client.get("/api/v1/findings/", {"object": unclear}), 400, "invalid")
