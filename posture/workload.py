"""Who carries what, for the overview: open findings by severity per team, and open and overdue
findings per assignee, unassigned apart. A team lead decides from it where the team spends effort.

"Open" is what still needs work, open or acknowledged: accepted risks and false positives are not.
Every number comes with the findings-list link that lists it.

- Per team: the sums of the overview's cluster rows (each latest scan's counts less its accepted
  risks, as the clusters table shows them): no aggregate over the findings.
- Per assignee: one aggregate over the assigned open findings, an index-only scan of the partial
  index ``finding_open_by_assignee`` (20 ms at a million findings), kept for a minute. The
  unassigned are most open findings and counting them would cost more than the page; like the
  overdue tile, they are counted exactly up to 1,000 and past that are the planner's estimate, both
  through the same index.
"""

from collections import Counter
from dataclasses import dataclass, field, replace
from functools import partial
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.urls import reverse

from accounts.models import Team
from findings.models import Finding, FindingStatus
from findings.querysets import cached_for_clusters, estimated_count
from posture.scanning.checks.registry import Severity

SEVERITIES = [severity.value for severity in sorted(Severity, key=lambda s: -s.rank)]
NEEDS_WORK = [("status", FindingStatus.OPEN), ("status", FindingStatus.ACKNOWLEDGED)]
PEOPLE_SHOWN = 15  # the most overdue first; the rest are a count under the table


def _findings_url(*params: tuple[str, object]) -> str:
    return f"{reverse('findings:finding-list')}?{urlencode(params)}"


@dataclass
class TeamLoad:
    name: str
    slug: str
    by_severity: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())

    @property
    def url(self) -> str:
        return _findings_url(("team", self.slug), *NEEDS_WORK)

    def cells(self) -> list[tuple[str, int, str]]:
        """(severity, count, the link that lists them) worst first."""
        team = ("team", self.slug)
        return [
            (name, self.by_severity[name], _findings_url(team, ("severity", name), *NEEDS_WORK))
            for name in SEVERITIES
        ]


@dataclass
class PersonLoad:
    pk: int | None  # None: nobody's yet
    username: str
    open: int
    overdue: int
    # False: the unassigned past 1,000, the planner's estimate
    open_exact: bool = True
    overdue_exact: bool = True
    team: str = ""  # the slug of the one team the overview shows: its links list that team's alone

    @property
    def assignee(self) -> str:
        return "none" if self.pk is None else str(self.pk)

    @property
    def open_url(self) -> str:
        return _findings_url(*self._team, ("assignee", self.assignee), *NEEDS_WORK)

    @property
    def overdue_url(self) -> str:
        return _findings_url(*self._team, ("assignee", self.assignee), ("overdue", "true"), ("sort", "due"))

    @property
    def _team(self) -> tuple[tuple[str, str], ...]:
        return (("team", self.team),) if self.team else ()


def open_by_team(rows: list[dict]) -> list[TeamLoad]:
    """The overview's cluster rows summed per team, worst first; empty for a single team."""
    by_team: dict[int, Counter] = {}
    for row in rows:
        counts = by_team.setdefault(row["cluster"].team_id, Counter())
        if row["scan"]:
            counts.update(row["open_by_severity"])
    if len(by_team) < 2:
        return []
    teams = [
        TeamLoad(name=name, slug=slug, by_severity=by_team[pk])
        for pk, name, slug in Team.objects.filter(pk__in=list(by_team)).values_list("pk", "name", "slug")
    ]
    return sorted(teams, key=lambda team: ([-team.by_severity[s] for s in SEVERITIES], team.name))


def open_by_assignee(cluster_ids: list[int], now) -> tuple[list[PersonLoad], PersonLoad]:
    """(each assignee's open and overdue findings in these clusters, most overdue first; the
    unassigned). Only the clusters given are counted: pass the ones the user may see."""
    needs_work = Finding.objects.filter(cluster_id__in=cluster_ids).open()
    assigned = list(
        needs_work.filter(assignee__isnull=False)
        .order_by()
        .values_list("assignee_id")
        # Counting the due date, not the id: the index holds it, and the page reads no table row.
        .annotate(open_count=Count("*"), overdue=Count("due_at", filter=Q(due_at__lt=now)))
    )
    # Their names apart: joining the users before grouping doubled the aggregate's time.
    ids = [pk for pk, _open, _overdue in assigned]
    names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    people = sorted(
        (PersonLoad(pk, names.get(pk, ""), open_count, overdue) for pk, open_count, overdue in assigned),
        key=lambda person: (-person.overdue, -person.open, person.username),
    )
    unassigned = needs_work.filter(assignee__isnull=True)
    open_count, open_exact = estimated_count(unassigned, exact_below=1_000)
    overdue, overdue_exact = estimated_count(unassigned.filter(due_at__lt=now), exact_below=1_000)
    return people, PersonLoad(None, "", open_count, overdue, open_exact, overdue_exact)


def overview_context(clusters: list, rows: list[dict], now, team: str = "") -> dict:
    """``team``: the slug of the one team the overview shows, if it shows one (``clusters`` are
    then that team's), for the links."""
    ids = [cluster.pk for cluster in clusters]
    # Kept for a minute, like the checks page's counts: a new scan changes the version, triage and
    # assignment forget it when they commit (findings.triage).
    newest = str(max((cluster.last_scan_id or 0 for cluster in clusters), default=0))
    people, unassigned = ([], PersonLoad(None, "", 0, 0))
    if ids:
        compute = partial(open_by_assignee, ids, now)
        people, unassigned = cached_for_clusters("posture:open-by-assignee", ids, compute, version=newest)
    if team:
        # Added after the cache: a single team's user gets the same clusters, and the same cached
        # figures, with or without ?team=, but only the team's page narrows its links.
        people = [replace(person, team=team) for person in people]
        unassigned = replace(unassigned, team=team)
    return {
        "workload_teams": open_by_team(rows),
        "workload_people": people[:PEOPLE_SHOWN],
        "workload_people_more": people[PEOPLE_SHOWN:],
        "workload_unassigned": unassigned,
        "workload_severities": SEVERITIES,
    }
