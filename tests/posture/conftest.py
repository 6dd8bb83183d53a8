import pytest

from tests.factories import make_lifecycle_cluster
from tests.fakekube import FakeKube


@pytest.fixture
def cluster(team):
    """These tests are about lifecycle and pages, not the catalogue: four checks only."""
    return make_lifecycle_cluster(team, name="prod-eu")


@pytest.fixture
def fake_kube():
    """Start the project's fake API server over HTTPS with these objects; stopped after the test."""
    started = []

    def start(objects, **options):
        kube = FakeKube(objects, **options).start()
        started.append(kube)
        return kube

    yield start
    for kube in started:
        kube.stop()
