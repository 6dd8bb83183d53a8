import pytest

from tests.factories import make_lifecycle_cluster


@pytest.fixture
def cluster(team):
    """These tests are about lifecycle and pages, not the catalogue: four checks only."""
    return make_lifecycle_cluster(team, name="prod-eu")
