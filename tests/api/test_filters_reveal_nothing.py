"""Filtering a list by an id one cannot see answers exactly as for an id that does not exist."""

import pytest

from tests.api.helpers import token_for
from tests.factories import as_yaml, deployment, make_lifecycle_cluster, scan_snapshot

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/scans/?cluster={id}", "/api/v1/exceptions/?cluster={id}"])
def test_another_teams_cluster_id_and_an_unknown_id_get_the_same_empty_list(
    client, outsider, other_team, team, path
):
    hidden = make_lifecycle_cluster(team, name="hidden")
    scan_snapshot(hidden, as_yaml(deployment("web", privileged=True)))
    headers = {"Authorization": f"Bearer {token_for(outsider)}"}
    foreign = client.get(path.format(id=hidden.pk), headers=headers)
    unknown = client.get(path.format(id=hidden.pk + 10_000), headers=headers)
    assert foreign.status_code == unknown.status_code == 200
    assert foreign.json()["results"] == unknown.json()["results"] == []
