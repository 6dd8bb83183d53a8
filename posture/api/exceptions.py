"""API errors of Rampart's own (a module of their own: the parsers need them before DRF's views load)."""

from rest_framework import exceptions, status


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the object's current state."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used for a different request; send a new key with a new body."
    default_code = "idempotency_key_reused"


class PushInProgress(Conflict):
    """The first request with this Idempotency-Key is still being stored: the agent retries, not gives up."""

    default_detail = "A push with this Idempotency-Key is still being processed; retry shortly."
    default_code = "push_in_progress"
    wait = 5  # seconds; DRF sends it as Retry-After


class SnapshotOfAnotherCluster(Conflict):
    """The pushed snapshot's kube-system uid is not the cluster's: a person must act (the agent stops)."""

    default_code = "another_cluster"
