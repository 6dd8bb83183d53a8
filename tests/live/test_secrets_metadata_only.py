"""Secrets are listed as metadata only: no secret value ever crosses the wire or reaches the inventory."""

import orjson

from posture.scanning import engine
from posture.scanning.collectors.live import PARTIAL_METADATA, collect
from tests.live.cluster import ENCODED_SECRET_VALUE, SECRET_VALUE
from tests.live.conftest import token_connection


def test_secrets_are_requested_as_metadata_only_and_nothing_else(kube):
    collect(token_connection(kube), page_size=1)

    secret_requests = [r for r in kube.requests if r.path.endswith("/secrets")]
    assert len(secret_requests) == 2  # two Secrets, one a page: paging works for them too
    assert {r.headers["accept"] for r in secret_requests} == {
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
    }
    assert PARTIAL_METADATA == "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
    assert not [r for r in kube.requests if "/secrets/" in r.path]  # no single Secret is ever fetched


def test_no_secret_value_crosses_the_wire_or_reaches_the_inventory(kube):
    inventory = collect(token_connection(kube))

    for request in kube.requests:
        assert ENCODED_SECRET_VALUE.encode() not in request.body, request.path
        assert SECRET_VALUE.encode() not in request.body, request.path
    secrets = inventory.of_kind("Secret")
    assert sorted(secret.name for secret in secrets) == ["web-db", "web-tls"]
    for secret in secrets:
        assert set(secret.raw) == {"apiVersion", "kind", "metadata"}
        assert secret.raw["kind"] == "Secret"
        assert secret.raw["apiVersion"] == "v1"
        assert secret.metadata["namespace"] == "shop"
        assert secret.metadata["creationTimestamp"]  # what the rotation check needs
    everything = orjson.dumps([resource.raw for resource in inventory.resources])
    assert ENCODED_SECRET_VALUE.encode() not in everything
    assert SECRET_VALUE.encode() not in everything


def test_a_last_applied_annotation_that_copies_the_values_is_dropped_on_arrival(serve):
    applied = {"apiVersion": "v1", "kind": "Secret", "data": {"password": ENCODED_SECRET_VALUE}}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "applied-with-kubectl",
            "namespace": "shop",
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": orjson.dumps(applied).decode(),
                "team": "payments",
            },
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:data": {"f:password": {}}}}],
        },
        "data": {"password": ENCODED_SECRET_VALUE},
    }
    kube = serve([secret])

    inventory = collect(token_connection(kube))

    (collected,) = inventory.of_kind("Secret")
    assert collected.annotations == {"team": "payments"}
    # Who wrote it, when, and that it wrote data stay (rotation age); the keys it wrote do not.
    assert collected.metadata["managedFields"] == [{"manager": "kubectl", "fieldsV1": {"f:data": {}}}]
    assert ENCODED_SECRET_VALUE.encode() not in orjson.dumps(collected.raw)


def test_a_server_that_refuses_metadata_only_lists_leaves_secrets_as_a_coverage_gap(serve, objects):
    kube = serve(objects, partial_metadata="not_acceptable")

    inventory = collect(token_connection(kube))

    assert inventory.of_kind("Secret") == []
    assert inventory.coverage_gaps == {
        "Secret": "the API server cannot list secrets as metadata only (406 Not Acceptable); they were not "
        "read, so their values never reach Rampart"
    }
    assert len([r for r in kube.requests if r.path.endswith("/secrets")]) == 1  # no fallback request


def test_a_server_that_ignores_the_metadata_request_has_its_answer_thrown_away(serve, objects):
    kube = serve(objects, partial_metadata="ignored")  # e.g. a proxy that rewrites Accept

    inventory = collect(token_connection(kube))

    assert ENCODED_SECRET_VALUE.encode() in kube.requests_to("/api/v1/secrets")[0].body  # it did send them
    assert inventory.of_kind("Secret") == []
    assert "cannot list secrets as metadata only" in inventory.coverage_gaps["Secret"]
    assert ENCODED_SECRET_VALUE.encode() not in orjson.dumps([r.raw for r in inventory.resources])


def test_a_legacy_token_secret_is_recognised_from_its_metadata_alone(serve):
    token = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": {
            "name": "ci-token",
            "namespace": "shop",
            "creationTimestamp": "2021-03-01T00:00:00Z",
            "annotations": {"kubernetes.io/service-account.name": "ci"},
        },
        "data": {"token": ENCODED_SECRET_VALUE},
    }
    inventory = collect(token_connection(serve([token])))

    [listed] = inventory.of_kind("Secret")
    assert "type" not in listed.raw  # metadata only: the type stays on the server
    results = engine.run(inventory)
    assert [(r.check_id, r.name) for r in results.findings if r.kind == "Secret"] == [
        ("service-account-token-secret", "ci-token")
    ]  # and not secret-not-rotated: rotating it is not the user's job, removing it is
