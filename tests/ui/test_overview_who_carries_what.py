"""The overview shows who carries what: open findings by severity per team (for someone who sees
several teams) and open and overdue findings per assignee, unassigned apart; every number lists its
findings in one click, and only the user's own teams' findings are ever counted."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from findings import triage
from findings.models import Finding
from tests.factories import accept_risk, as_yaml, deployment, make_cluster, make_user, scan_snapshot
from tests.ui.conftest import card, listed_count

NEEDS_WORK = ["open", "acknowledged"]


def row(section: str, header: str) -> list[tuple[str, int]]:
    """(href, number) of each linked figure in the table row headed ``header``."""
    cells = re.search(rf'<th scope="row">{header}</th>(.*?)</tr>', section, re.DOTALL)[1]
    return [
        (href, int(number.replace(",", "")))
        for href, number in re.findall(r'<a[^>]* href="([^"]+)"[^>]*>(?:≈ )?([\d,]+)</a>', cells)
    ]


@pytest.fixture
def shop(team):
    """Payments' cluster: three privileged Deployments (critical) and their other findings."""
    cluster = make_cluster(team, name="shop")
    scan_snapshot(cluster, as_yaml(*(deployment(name, privileged=True) for name in ("a", "b", "c"))))
    return cluster


@pytest.fixture
def search(other_team):
    """Search's cluster: one privileged Deployment."""
    cluster = make_cluster(other_team, name="search")
    scan_snapshot(cluster, as_yaml(deployment("index", namespace="search", privileged=True)))
    return cluster


def overdue(findings) -> None:
    findings.update(due_at=timezone.now() - timedelta(days=3))


def test_each_assignees_open_and_overdue_findings_are_counted_and_one_click_away(
    client, shop, engineer, viewer
):
    privileged = Finding.objects.filter(cluster=shop, check_id="privileged-container")
    triage.assign(privileged, engineer, actor=engineer)
    overdue(privileged.filter(name__in=["a", "b"]))
    overdue(Finding.objects.filter(cluster=shop, check_id="run-as-root", name="a"))  # nobody's, late
    client.force_login(viewer)
    people = card(client.get(reverse("home")).text, "people-title")

    assert row(people, "erin") == [
        (f"/findings/?assignee={engineer.pk}&amp;status=open&amp;status=acknowledged", 3),
        (f"/findings/?assignee={engineer.pk}&amp;overdue=true&amp;sort=due", 2),
    ]
    unassigned = Finding.objects.filter(cluster=shop, status__in=NEEDS_WORK, assignee=None)
    (open_href, open_count), (late_href, late_count) = row(people, "<strong>Unassigned</strong>")
    assert (open_count, late_count) == (unassigned.count(), 1)
    for href, shown in row(people, "erin") + row(people, "<strong>Unassigned</strong>"):
        assert listed_count(client, href) == shown, href
    assert "assignee=none&amp;status=open" in open_href
    assert "assignee=none&amp;overdue=true" in late_href


def test_accepted_risks_and_false_positives_are_not_anyones_open_findings(
    client, shop, engineer, viewer, django_capture_on_commit_callbacks
):
    privileged = Finding.objects.filter(cluster=shop, check_id="privileged-container")
    triage.assign(privileged, engineer, actor=engineer)
    overdue(privileged)
    accept_risk(privileged.get(name="a"), engineer, django_capture_on_commit_callbacks)
    triage.change_status(privileged.get(name="b"), "false_positive", actor=engineer, reason="a test")
    client.force_login(viewer)
    people = card(client.get(reverse("home")).text, "people-title")
    assert [number for _href, number in row(people, "erin")] == [1, 1]


def test_the_figures_follow_an_assignment_made_since_the_last_look(
    client, shop, engineer, viewer, django_capture_on_commit_callbacks
):
    client.force_login(viewer)
    assert 'th scope="row">erin</th>' not in card(client.get(reverse("home")).text, "people-title")
    with django_capture_on_commit_callbacks(execute=True):
        triage.assign(Finding.objects.filter(cluster=shop, name="a"), engineer, actor=engineer)
    people = card(client.get(reverse("home")).text, "people-title")
    assert row(people, "erin")[0][1] == Finding.objects.filter(cluster=shop, name="a").count()


def test_a_lead_of_two_teams_sees_each_teams_open_findings_by_severity(
    client, shop, search, lead, engineer, team, other_team, django_capture_on_commit_callbacks
):
    accept_risk(
        Finding.objects.get(cluster=shop, check_id="privileged-container", name="a"),
        engineer,
        django_capture_on_commit_callbacks,
    )
    client.force_login(lead)
    teams = card(client.get(reverse("home")).text, "teams-title")
    for some_team, cluster in ((team, shop), (other_team, search)):
        needs_work = Finding.objects.filter(cluster=cluster, status__in=NEEDS_WORK)
        figures = row(teams, some_team.name)
        by_severity = {
            re.search(r"severity=(\w+)", href)[1]: number for href, number in figures if "severity=" in href
        }
        assert by_severity == {
            severity: needs_work.filter(severity=severity).count()
            for severity in ("critical", "high", "medium", "low", "info")
            if needs_work.filter(severity=severity).exists()
        }
        assert figures[-1][1] == needs_work.count()  # the row's total
        for href, shown in figures:
            assert f"team={some_team.slug}" in href
            assert listed_count(client, href) == shown, href
    # Payments' accepted risk is in none of its numbers: two criticals left, not three.
    assert row(teams, team.name)[0][1] == 2


def test_another_teams_findings_are_never_counted(client, shop, search, team, other_team, viewer):
    # Someone in both teams, assigned findings in both: Payments' viewer sees only Payments' share.
    both = make_user(team, Role.ENGINEER, username="bo")
    Membership.objects.create(team=other_team, user=both, role=Role.ENGINEER)
    triage.assign(Finding.objects.filter(cluster=shop, check_id="privileged-container"), both, actor=both)
    triage.assign(Finding.objects.filter(cluster=search), both, actor=both)
    client.force_login(viewer)
    page = client.get(reverse("home")).text
    assert 'id="teams-title"' not in page  # one team: its figures are the rest of the page
    people = card(page, "people-title")
    assert [number for _href, number in row(people, "bo")][0] == 3
    unassigned = Finding.objects.filter(cluster=shop, status__in=NEEDS_WORK, assignee=None).count()
    assert row(people, "<strong>Unassigned</strong>")[0][1] == unassigned


def test_the_rollup_costs_the_same_queries_for_two_teams_or_five_and_one_person_or_four(client, team, lead):
    def page_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("home")).text
        assert 'id="teams-title"' in page
        assert 'id="people-title"' in page
        return len(queries)

    def add_team_with_an_assignee(n: int):
        from tests.factories import make_team

        other = make_team(f"Team {n}")
        Membership.objects.create(team=other, user=lead, role=Role.VIEWER)
        cluster = make_cluster(other, name=f"c{n}")
        scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
        person = make_user(other, Role.ENGINEER, username=f"person{n}")
        triage.assign(Finding.objects.filter(cluster=cluster), person, actor=person)

    client.force_login(lead)
    for n in range(2):
        add_team_with_an_assignee(n)
    few = page_queries()
    for n in range(2, 5):
        add_team_with_an_assignee(n)
    assert page_queries() == few
