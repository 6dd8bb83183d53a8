"""Fixtures for the live collector: a fake API server per test, over real HTTP(S).

None of these tests needs a database.
"""

import socket

import pytest

from posture.scanning.collectors.live import Connection, connection_from
from tests.fakekube import FakeKube
from tests.live.cluster import fixture_objects

# Short enough to keep the slow-server tests fast, long enough for a loaded CI machine.
FAST_TIMEOUT = 1.0


@pytest.fixture
def objects() -> list[dict]:
    return fixture_objects()


@pytest.fixture
def kube(serve, objects) -> FakeKube:
    return serve(objects)


def token_connection(kube: FakeKube, *, token: str | None = None, ca_pem: str | None = None) -> Connection:
    return connection_from(
        "token",
        api_url=kube.url,
        credentials=token if token is not None else kube.token,
        ca_bundle=ca_pem if ca_pem is not None else (kube.ca_pem if kube.tls else ""),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
