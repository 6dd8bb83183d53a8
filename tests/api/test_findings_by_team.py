"""Findings filter by team (its slug), in the API and the findings list alike: the overview's
per-team figures link to them."""

import pytest

from accounts.models import Membership, Role
from tests.api.helpers import make_findings
from tests.factories import make_cluster, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_teams(team, other_team, cluster):
    """prod-eu (Payments) with 3 findings, search-eu (Search) with 2, and a viewer of both teams."""
    make_findings(cluster, 3)
    make_findings(make_cluster(other_team, name="search-eu"), 2)
    lead = make_user(team, Role.VIEWER, username="lena")
    Membership.objects.create(team=other_team, user=lead, role=Role.VIEWER)
    return lead


def test_a_team_filter_lists_only_that_teams_findings(api, two_teams, team, other_team, cluster):
    client = api(two_teams)
    payments = client.get("/api/v1/findings/", {"team": team.slug}).json()["results"]
    assert len(payments) == 3
    assert {row["cluster"] for row in payments} == {cluster.pk}
    assert len(client.get("/api/v1/findings/", {"team": other_team.slug}).json()["results"]) == 2
    assert len(client.get("/api/v1/findings/", {"team": ""}).json()["results"]) == 5


def test_another_teams_slug_and_an_unknown_one_get_the_same_empty_list(api, two_teams, viewer, other_team):
    client = api(viewer)  # Payments only
    foreign = client.get("/api/v1/findings/", {"team": other_team.slug})
    unknown = client.get("/api/v1/findings/", {"team": "no-such-team"})
    assert foreign.status_code == unknown.status_code == 200
    assert foreign.json()["results"] == unknown.json()["results"] == []


def test_the_findings_list_says_it_shows_one_team_and_how_to_show_them_all(client, two_teams, team):
    client.force_login(two_teams)
    page = client.get("/findings/", {"team": team.slug, "status": "open"}).text
    assert f'<input type="hidden" name="team" value="{team.slug}">Team {team.slug}' in page
    assert '<p class="result-count muted">3 findings' in page
