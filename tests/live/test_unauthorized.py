"""A token the API server rejects fails the collection with one clear line, and never leaks."""

import logging

import pytest

from posture.scanning.collectors.errors import CollectionError
from posture.scanning.collectors.live import collect
from tests.live.conftest import token_connection

WRONG_TOKEN = "wrong-token-d41d8cd98f00b204e9800998ecf8427e"


def test_a_rejected_token_fails_the_collection_with_a_clear_reason(kube):
    with pytest.raises(CollectionError) as caught:
        collect(token_connection(kube, token=WRONG_TOKEN))

    assert str(caught.value) == (
        "the API server rejected Rampart's credentials (401 Unauthorized): "
        "the token is invalid or has expired"
    )
    assert [r.status for r in kube.requests] == [401]  # it stops at the first answer


def test_the_token_appears_in_no_error_and_no_log_record(kube, caplog):
    caplog.set_level(logging.DEBUG)

    with pytest.raises(CollectionError) as caught:
        collect(token_connection(kube, token=WRONG_TOKEN))
    collect(token_connection(kube))

    assert kube.requests[0].headers["authorization"] == f"Bearer {WRONG_TOKEN}"  # it was sent...
    assert WRONG_TOKEN not in str(caught.value)  # ...and is said nowhere
    assert WRONG_TOKEN not in repr(token_connection(kube, token=WRONG_TOKEN))
    logged = "\n".join(record.getMessage() + str(record.exc_info or "") for record in caplog.records)
    assert caplog.records
    assert WRONG_TOKEN not in logged
    assert kube.token not in logged
