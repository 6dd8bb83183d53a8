import uuid

import pytest

from accounts.models import Role
from tests.factories import make_cluster, make_team, make_user
from tests.fakekube import FakeKube


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    """Each test its own cache key prefix. On SQLite row ids start again in every test, so on a shared
    Redis a trend cached by one test (same database name, same cluster ids) answered the next one."""
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"} for name, config in settings.CACHES.items()
    }


@pytest.fixture
def serve():
    """Start the project's fake API servers (HTTPS by default): ``serve(objects, **options)``; all are
    stopped after the test."""
    started = []

    def start(objects=(), **options):
        kube = FakeKube(objects, **options).start()
        started.append(kube)
        return kube

    yield start
    for kube in started:
        kube.stop()


@pytest.fixture
def team(db):
    return make_team("Payments")


@pytest.fixture
def other_team(db):
    return make_team("Search")


@pytest.fixture
def viewer(team):
    return make_user(team, Role.VIEWER, username="vera")


@pytest.fixture
def engineer(team):
    return make_user(team, Role.ENGINEER, username="erin")


@pytest.fixture
def admin_user(team):
    return make_user(team, Role.ADMIN, username="ada")


@pytest.fixture
def outsider(other_team):
    return make_user(other_team, Role.ADMIN, username="otto")


@pytest.fixture
def cluster(team):
    return make_cluster(team, name="prod-eu")
