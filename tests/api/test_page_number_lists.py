"""The page-numbered lists (everything but findings): ordering, page size and page number.

They answer like the findings list: a parameter that cannot be obeyed is a 400 that names it,
never silently ignored or replaced by a default.
"""

import pytest
from django.utils import timezone

from findings.models import Comment
from posture.api.filters import StrictOrderingFilter
from posture.api.urls import router
from posture.models import NotificationAttempt, NotificationDelivery, NotificationEndpoint, Scan
from tests.api.helpers import assert_error, make_findings

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/clusters/",
    "/api/v1/scans/",
    "/api/v1/checks/",
    "/api/v1/exceptions/",
    "/api/v1/comments/",
    "/api/v1/history/",
    "/api/v1/tokens/",
    "/api/v1/teams/",
    "/api/v1/notification-endpoints/",
    "/api/v1/notification-deliveries/",
]


@pytest.fixture
def finding(cluster):
    return make_findings(cluster, 1)[0]


def test_every_list_that_can_be_ordered_names_its_ordering_fields():
    for prefix, viewset, _ in router.registry:
        backends = getattr(viewset, "filter_backends", [])
        if any(issubclass(backend, StrictOrderingFilter) for backend in backends):
            assert viewset.__dict__.get("ordering_fields"), prefix


def test_a_delivery_log_cannot_be_sorted_by_its_nested_attempts(api, admin_user, team):
    endpoint = NotificationEndpoint(team=team, name="pager")
    endpoint.set_url("https://hooks.example.test/rampart")
    endpoint.save()
    for key in ("one", "two"):
        delivery = NotificationDelivery.objects.create(endpoint=endpoint, event="scan_failed", dedupe_key=key)
        for number in (1, 2, 3):
            NotificationAttempt.objects.create(delivery=delivery, number=number, at=timezone.now())
    client = api(admin_user)
    error = assert_error(client.get("/api/v1/notification-deliveries/", {"ordering": "attempt_log"}), 400)
    assert error["fields"] == {
        "ordering": ["One of: created_at, delivered_at; with a leading - for descending order."]
    }
    rows = client.get("/api/v1/notification-deliveries/", {"ordering": "delivered_at"}).json()["results"]
    assert sorted(row["id"] for row in rows) == sorted(
        NotificationDelivery.objects.values_list("id", flat=True)
    )


@pytest.mark.parametrize("path", [path for path in LISTS if path != "/api/v1/checks/"])
@pytest.mark.parametrize("ordering", ["bogus", "-bogus", "created_at,bogus", "attempt_log", "--id", "name,"])
def test_an_ordering_the_list_does_not_offer_is_refused_naming_the_parameter(
    api, admin_user, finding, path, ordering
):
    error = assert_error(api(admin_user).get(path, {"ordering": ordering}), 400, "invalid")
    assert list(error["fields"]) == ["ordering"]


@pytest.mark.parametrize("path", [*LISTS, "/api/v1/findings/"])
@pytest.mark.parametrize("size", ["0", "-1", "abc", "1.5", " 2", "00"])
def test_a_page_size_that_is_not_a_counting_number_is_refused_everywhere_alike(
    api, admin_user, finding, path, size
):
    error = assert_error(api(admin_user).get(path, {"page_size": size}), 400, "invalid")
    assert error["fields"] == {"page_size": ["Must be a whole number, at least 1."]}


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("page", ["abc", "0", "-1", "1e3", ""])
def test_a_page_that_is_not_a_counting_number_is_refused(api, admin_user, finding, path, page):
    error = assert_error(api(admin_user).get(path, {"page": page}), 400, "invalid")
    assert error["fields"] == {"page": ["Must be a whole number, at least 1."]}


def test_a_page_past_the_end_is_an_empty_page_that_links_back_to_the_last_one(api, engineer, finding):
    for number in range(5):
        Comment.objects.create(finding=finding, author=engineer, body=f"note {number}")
    client = api(engineer)
    for page, previous in [("3", "page=2"), ("4", "page=2"), ("99999", "page=2"), ("9" * 40, "page=2")]:
        body = client.get("/api/v1/comments/", {"page": page, "page_size": 3}).json()
        assert (body["count"], body["results"], body["next"]) == (5, [], None)
        assert previous in body["previous"]
    last = client.get("/api/v1/comments/", {"page": "2", "page_size": 3}).json()
    assert (len(last["results"]), last["next"]) == (2, None)
    empty = client.get("/api/v1/history/", {"page": "2", "finding": finding.pk + 1}).json()
    assert (empty["count"], empty["results"], empty["next"]) == (0, [], None)
    assert "page=" not in empty["previous"]


def test_equal_values_never_repeat_or_drop_a_row_between_pages(api, viewer, cluster):
    now = timezone.now()
    scans = [
        Scan.objects.create(cluster=cluster, status="succeeded", score=70.0, created_at=now, finished_at=now)
        for _ in range(7)
    ]
    client = api(viewer)
    for ordering in ("score", "-score", "finished_at,-score"):
        seen = []
        for page in (1, 2, 3, 4):
            body = client.get("/api/v1/scans/", {"ordering": ordering, "page_size": 2, "page": page}).json()
            seen += [row["id"] for row in body["results"]]
        assert sorted(seen) == sorted(scan.pk for scan in scans), ordering
