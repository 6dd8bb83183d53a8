"""The overview of one team: ``?team=<slug>`` narrows every figure of the page to that team's
clusters, and a switch at the top of the page leads from team to team.

The team is looked for among the clusters the user can see, never in the teams table: the slug of a
team the user has no cluster in, or of no team at all, narrows to no cluster, and the page says so
in the same words either way (as the findings list's ``team`` filter answers with an empty list), so
it tells nobody whether a team exists.

Narrowed in Python, from the rows the overview reads anyway: the switch needs the team of every
cluster the user can see, so one query serves both, and no more queries are made for ten teams than
for two. Every figure after it (trends, overdue, who carries what) is then read for the team's
cluster ids alone, and the caches keyed on those ids keep a team's answers apart from the fleet's.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

DEFAULT_DAYS = 30  # the overview's own default period: not repeated in the links


@dataclass(frozen=True)
class TeamChoice:
    label: str
    url: str
    current: bool


def narrow_to_team(clusters: list, slug: str, days: int) -> tuple[list, dict]:
    """(the clusters of the team ``slug`` among ``clusters``, the page's context for it).

    ``clusters`` are the ones the user may see (``Cluster.objects.for_user``), with their team
    selected; an empty ``slug`` keeps them all.
    """
    slug = slug.strip()[:100]
    teams = {cluster.team_id: cluster.team for cluster in clusters}
    team = next((team for team in teams.values() if team.slug == slug), None) if slug else None
    if slug:
        clusters = [cluster for cluster in clusters if cluster.team_id == (team.pk if team else None)]
    # The period the page shows goes along with a change of team, and the team along with the
    # findings the page's figures count: a number clicked is the number listed.
    period = {"days": days} if days != DEFAULT_DAYS else {}
    home = reverse("home")
    all_teams = _url(home, period)
    switch = []
    if len(teams) > 1:
        switch = [TeamChoice("All teams", all_teams, team is None and not slug)] + [
            TeamChoice(other.name, _url(home, {"team": other.slug, **period}), other == team)
            for other in sorted(teams.values(), key=lambda other: other.name.lower())
        ]
    findings = reverse("findings:finding-list")
    return clusters, {
        "team": team,
        "team_unseen": slug if slug and team is None else "",
        "team_switch": switch,
        "all_teams_url": all_teams,
        # The findings list's URL with its query begun, to which each link adds its own filters.
        "findings_url": f"{findings}?{urlencode({'team': team.slug})}&" if team else f"{findings}?",
    }


def _url(path: str, params: dict) -> str:
    return f"{path}?{urlencode(params)}" if params else path
