"""A slow or unreachable API server fails fast with a reason a user can act on."""

import time

import pytest

from posture.scanning.collectors import transport
from posture.scanning.collectors.errors import CollectionError
from posture.scanning.collectors.live import collect, connection_from
from tests.live.conftest import FAST_TIMEOUT, free_port, token_connection


def test_a_version_endpoint_that_does_not_answer_fails_the_collection_within_the_timeout(serve, objects):
    kube = serve(objects, delays={"/version": 30})
    started = time.monotonic()

    with pytest.raises(CollectionError) as caught:
        collect(token_connection(kube), request_timeout=FAST_TIMEOUT)

    assert str(caught.value) == "the API server did not answer within 1 s"
    assert time.monotonic() - started < FAST_TIMEOUT * 3  # one attempt, not one per retry
    assert len(kube.requests_to("/version")) == 1


def test_a_slow_list_becomes_a_coverage_gap_and_the_rest_is_collected(serve, objects):
    kube = serve(objects, delays={"/api/v1/configmaps": 30})

    inventory = collect(token_connection(kube), request_timeout=FAST_TIMEOUT)

    assert inventory.coverage_gaps == {"ConfigMap": "the API server did not answer within 1 s"}
    assert inventory.of_kind("Deployment")
    assert inventory.of_kind("Secret")


def test_a_server_that_is_slow_but_within_the_timeout_is_read(serve, objects):
    kube = serve(objects, delay=0.05)

    inventory = collect(token_connection(kube), request_timeout=FAST_TIMEOUT)

    assert inventory.coverage_gaps == {}


def test_a_closed_port_fails_with_connection_refused():
    port = free_port()
    connection = connection_from("token", api_url=f"https://127.0.0.1:{port}", credentials="some-token")

    with pytest.raises(CollectionError) as caught:
        collect(connection, request_timeout=FAST_TIMEOUT)

    assert str(caught.value) == f"cannot reach the API server at https://127.0.0.1:{port}: connection refused"


def test_a_host_name_that_does_not_resolve_is_named():
    connection = connection_from(
        "token", api_url="https://kube.rampart-test.invalid:6443", credentials="t0ken"
    )

    with pytest.raises(CollectionError) as caught:
        collect(connection, request_timeout=FAST_TIMEOUT)

    assert str(caught.value) == (
        "cannot reach the API server at https://kube.rampart-test.invalid:6443: "
        "the host name 'kube.rampart-test.invalid' does not resolve"
    )


def test_a_web_server_that_is_not_kubernetes_is_recognised(serve):
    kube = serve([], version={"hello": "world"})

    with pytest.raises(CollectionError, match="does not look like a Kubernetes API server"):
        collect(token_connection(kube))


def test_a_response_larger_than_the_cap_is_refused_not_read_into_memory(serve, objects, monkeypatch):
    # The cap is lowered so that the fake server's ordinary pages exceed it; the server
    # and the HTTP path are the real ones.
    monkeypatch.setattr(transport, "MAX_RESPONSE_BYTES", 2048)
    kube = serve(objects)

    inventory = collect(token_connection(kube), request_timeout=FAST_TIMEOUT)

    assert inventory.coverage_gaps  # large lists become gaps; /version (small) still answered
    reason = next(iter(inventory.coverage_gaps.values()))
    assert reason.startswith("the API server sent more than 2,048 bytes in one response")
