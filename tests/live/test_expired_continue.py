"""A continue token that expires (410 Gone) restarts that list once, from the start."""

from posture.scanning.collectors.live import collect
from tests.live.cluster import PAGE_COUNT_PODS
from tests.live.conftest import token_connection


def test_it_restarts_a_list_once_when_its_continue_token_expires(serve, objects):
    kube = serve(objects, expire_continue={"pods": 1})

    inventory = collect(token_connection(kube), page_size=3)

    statuses = [(bool(r.query.get("continue")), r.status) for r in kube.requests_to("/api/v1/pods")]
    assert statuses == [(False, 200), (True, 410), (False, 200), (True, 200), (True, 200)]
    gone = next(r for r in kube.requests_to("/api/v1/pods") if r.status == 410)
    assert b'"reason":"Expired"' in gone.body
    assert b'"kind":"Status"' in gone.body
    # No duplicates from the abandoned first attempt.
    assert sorted(p.name for p in inventory.of_kind("Pod")) == [
        f"web-5d9c7-{i:02d}" for i in range(PAGE_COUNT_PODS)
    ]
    assert "Pod" not in inventory.coverage_gaps


def test_a_list_that_expires_again_after_its_restart_becomes_a_coverage_gap(serve, objects):
    kube = serve(objects, expire_continue={"pods": 2})

    inventory = collect(token_connection(kube), page_size=3)

    assert inventory.of_kind("Pod") == []
    assert "expired twice while paging (410 Gone)" in inventory.coverage_gaps["Pod"]
    assert len(kube.requests_to("/api/v1/pods")) == 4  # first page, 410, first page again, 410
    assert inventory.of_kind("Deployment")  # the other lists are unaffected


def test_tokens_made_stale_by_a_compaction_are_recovered_from(serve, objects):
    kube = serve(objects)
    first = collect(token_connection(kube), page_size=2)
    kube.expire_continue_tokens()  # tokens issued before now are too old

    second = collect(token_connection(kube), page_size=2)

    assert len(second.of_kind("Pod")) == len(first.of_kind("Pod")) == PAGE_COUNT_PODS
