import pytest
from django.core import signals
from django.db import close_old_connections

from accounts.models import ApiToken
from tests.api.helpers import Api, token_for
from tests.factories import as_yaml, deployment, scan_snapshot


@pytest.fixture
def api(client):
    """``api(user)`` is a client with a read-write token of that user; ``api()`` is anonymous."""

    def make(user=None, scope=ApiToken.Scope.WRITE, **headers):
        return Api(client, token_for(user, scope) if user is not None else None, **headers)

    return make


@pytest.fixture
def scanned(cluster):
    """prod-eu after one scan: a privileged Deployment (critical) and a plain one."""
    scan_snapshot(
        cluster, as_yaml(deployment("web", privileged=True), deployment("api", namespace="payments"))
    )
    return cluster


@pytest.fixture
def wsgi_requests(db):
    """For requests sent to the WSGI application itself (Schemathesis), not through the test client."""
    # Django closes the database connection when a WSGI request ends inside a transaction;
    # the test's transaction must outlive every request (Django's own test client does the same).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
