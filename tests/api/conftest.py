import pytest

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
