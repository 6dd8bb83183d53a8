"""A server that asks Rampart to slow down (429 Too Many Requests, Retry-After) is asked again later."""

import time

from posture.scanning.collectors.live import collect
from tests.fakekube.api import RETRY_AFTER_SECONDS
from tests.live.conftest import token_connection


def test_a_throttled_list_is_read_after_the_wait_the_server_names(serve, objects):
    kube = serve(objects, throttled={"pods": 2})

    started = time.monotonic()
    inventory = collect(token_connection(kube))
    elapsed = time.monotonic() - started

    assert inventory.coverage_gaps == {}
    assert len(inventory.of_kind("Pod")) == sum(1 for obj in objects if obj["kind"] == "Pod")
    answers = [request.status for request in kube.requests_to("/api/v1/pods")]
    assert answers == [429, 429, 200]
    assert elapsed >= 2 * RETRY_AFTER_SECONDS  # it waited as asked, rather than hammering the server


def test_a_server_that_keeps_throttling_leaves_a_coverage_gap_within_the_timeout(serve, objects):
    kube = serve(objects, throttled={"pods": 1000})

    started = time.monotonic()
    inventory = collect(token_connection(kube), request_timeout=2.5)
    elapsed = time.monotonic() - started

    assert inventory.coverage_gaps == {
        "Pod": "the API server kept throttling Rampart, even after waiting and asking again: "
        "429 Too Many Requests: Too many requests, please try again later."
    }
    # Asked again after 1 s and 2 s; a third wait would pass the 2.5 s it may spend on a request.
    assert [request.status for request in kube.requests_to("/api/v1/pods")] == [429, 429, 429]
    assert elapsed < 6
    assert inventory.of_kind("Deployment")


def test_a_server_error_without_retry_after_is_not_asked_again(serve, objects):
    kube = serve(objects, errors={"apps/replicasets": 503})

    inventory = collect(token_connection(kube))

    assert "ReplicaSet" in inventory.coverage_gaps
    assert len(kube.requests_to("/apis/apps/v1/replicasets")) == 1
