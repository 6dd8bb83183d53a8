"""A lead of several teams reads the overview of one (``?team=<slug>``): every figure, chart, table
and link is that team's alone; a team the user cannot see, or no team at all, shows no cluster and
says so in the same words, whichever it is."""

import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from findings import triage
from findings.models import Finding
from tests.factories import as_yaml, deployment, make_cluster, make_team, make_user, scan_snapshot
from tests.ui.conftest import card, htmx, listed_count

NEEDS_WORK = ["open", "acknowledged"]


def tile(page: str, label: str) -> str:
    return page.split(f'<p class="tile-label">{label}</p>')[1].split("</div>")[0]


def switch(page: str) -> list[tuple[str, str, bool]]:
    """(label, href, current) of each entry of the team switch."""
    nav = re.search(r'<nav id="team-switch"[^>]*>(.*?)</nav>', page, re.DOTALL)
    if not nav:
        return []
    return [
        (label, href.replace("&amp;", "&"), bool(current))
        for href, current, label in re.findall(
            r'<a href="([^"]+)" ?(aria-current="page")?>([^<]+)</a>', nav[1]
        )
    ]


@pytest.fixture
def shop(team):
    """Payments' cluster: three privileged Deployments."""
    cluster = make_cluster(team, name="shop-prod")
    scan_snapshot(cluster, as_yaml(*(deployment(name, privileged=True) for name in ("a", "b", "c"))))
    cluster.refresh_from_db()
    return cluster


@pytest.fixture
def search(other_team):
    """Search's cluster, from another snapshot: one privileged Deployment and two hardened ones, so its
    counts and its score differ from Payments'."""
    cluster = make_cluster(other_team, name="search-prod")
    scan_snapshot(
        cluster,
        as_yaml(
            deployment("indexer", namespace="search", privileged=True),
            deployment("query", namespace="search", hardened=True),
            deployment("ranker", namespace="search", hardened=True),
        ),
    )
    cluster.refresh_from_db()
    return cluster


@pytest.fixture
def both(team, other_team):
    """An engineer of both teams, with findings of each assigned, some overdue."""
    person = make_user(team, Role.ENGINEER, username="bo")
    Membership.objects.create(team=other_team, user=person, role=Role.ENGINEER)
    return person


def assign_and_overdue(cluster, person) -> None:
    needs_work = Finding.objects.filter(cluster=cluster, status__in=NEEDS_WORK)
    triage.assign(needs_work.filter(check_id="privileged-container"), person, actor=person)
    needs_work.filter(check_id="run-as-root").update(due_at=timezone.now() - timedelta(days=2))


def test_one_teams_overview_counts_that_teams_clusters_alone(client, shop, search, lead, team):
    client.force_login(lead)
    page = client.get(reverse("home"), {"team": team.slug}).text

    assert "<title>Overview — Payments · Rampart</title>" in page
    assert "<h1>Overview — Payments</h1>" in page
    assert "Every cluster of Payments that you can see" in page
    shop_open = Finding.objects.filter(cluster=shop, status__in=NEEDS_WORK).count()
    assert re.search(r'<a href="[^"]+">([\d,]+)</a>', tile(page, "Open findings"))[1] == str(shop_open)
    assert '<p class="tile-value">1</p>' in tile(page, "Clusters")
    assert ">shop-prod</a>" in page
    assert "search-prod" not in page
    # The whole fleet still counts both.
    fleet = client.get(reverse("home")).text
    both_open = Finding.objects.filter(cluster__in=[shop, search], status__in=NEEDS_WORK).count()
    assert re.search(r'<a href="[^"]+">([\d,]+)</a>', tile(fleet, "Open findings"))[1] == str(both_open)
    assert "search-prod" in fleet


def test_every_figure_of_a_teams_overview_leaves_the_other_teams_out(
    client, shop, search, lead, both, other_team
):
    assign_and_overdue(search, both)
    client.force_login(lead)
    page = client.get(reverse("home"), {"team": other_team.slug}).text

    search_overdue = Finding.objects.filter(cluster=search).overdue(timezone.now())
    assert re.search(r">(\d+)</a>", tile(page, "Overdue"))[1] == str(search_overdue.count())
    assert "shop-prod" not in page  # not in the rows, the overdue list, the compliance table
    assert "Average score of Search over the last 30 days" in page
    assert "All of Search</th>" in page
    people = card(page, "people-title")
    assigned = Finding.objects.filter(cluster=search, assignee=both, status__in=NEEDS_WORK).count()
    assert re.search(r'<th scope="row">bo</th><td><a href="[^"]+">(\d+)</a>', people)[1] == str(assigned)
    assert 'id="teams-title"' not in page  # one team: per team is the page itself
    checks = card(page, "checks-title")
    shown = re.findall(r'<code class="muted">([\w-]+)</code>.*?<td>(\d+)</td>\s*</tr>', checks, re.DOTALL)
    expected = sorted(search.last_scan.counts_by_check.items(), key=lambda item: (-item[1], item[0]))[:10]
    assert [(check_id, int(count)) for check_id, count in shown] == expected


def test_every_link_of_a_teams_overview_lists_as_many_findings_as_it_shows(
    client, shop, search, lead, both, team
):
    for cluster in (shop, search):
        assign_and_overdue(cluster, both)
    client.force_login(lead)
    page = client.get(reverse("home"), {"team": team.slug}).text

    links = [
        re.search(r'<a href="([^"]+)">([\d,]+)</a>', tile(page, "Open findings")).groups(),
        re.search(r'<a class="worse" href="([^"]+)"[^>]*>\+([\d,]+)</a>', tile(page, "Last 7 days")).groups(),
        re.search(r'<a href="([^"]+)">([\d,]+)</a>', tile(page, "Overdue")).groups(),
        re.search(r'<a href="([^"]+)">All ([\d,]+) overdue findings', card(page, "overdue-title")).groups(),
        *re.findall(r'<td><a href="([^"]+)"[^>]*>([\d,]+)</a></td>', card(page, "week-title")),
        *re.findall(
            r'<a href="([^"]+)">[^<]*</a> <code class="muted">[\w-]+</code></th>.*?<td>([\d,]+)</td>\s*</tr>',
            card(page, "checks-title"),
            re.DOTALL,
        ),
        *re.findall(r'<a(?: class="worse")? href="([^"]+)">([\d,]+)</a>', card(page, "people-title")),
    ]
    # The tiles, all overdue, today in the week, ten top checks, bo's and the unassigned's.
    assert len(links) == 18
    for href, shown in links:
        assert f"team={team.slug}" in href, href
        assert listed_count(client, href) == int(shown.replace(",", "")), href
    # Without the team the same links would have counted Search's findings too.
    everyone = Finding.objects.filter(status__in=NEEDS_WORK)
    assert int(links[0][1]) < everyone.count()


def test_the_team_switch_is_offered_to_someone_whose_clusters_span_two_teams(
    client, shop, search, lead, viewer, team
):
    client.force_login(lead)
    assert switch(client.get(reverse("home")).text) == [
        ("All teams", "/", True),
        ("Payments", "/?team=payments", False),
        ("Search", "/?team=search", False),
    ]
    on_payments = switch(client.get(reverse("home"), {"team": team.slug}).text)
    assert [(label, current) for label, _href, current in on_payments] == [
        ("All teams", False),
        ("Payments", True),
        ("Search", False),
    ]
    # Payments' viewer sees one team: nothing to switch between, even when it is asked for by name.
    client.force_login(viewer)
    assert 'aria-label="Team"' not in client.get(reverse("home")).text
    assert 'aria-label="Team"' not in client.get(reverse("home"), {"team": team.slug}).text


def test_an_organisation_admin_switches_between_every_team_with_clusters(client, shop, search):
    make_team("Empty")  # no cluster: nothing to show on its page, so not offered
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x-correct-horse")
    client.force_login(admin)
    labels = [label for label, _href, _current in switch(client.get(reverse("home")).text)]
    assert labels == ["All teams", "Payments", "Search"]


def test_a_team_the_user_cannot_see_and_one_that_does_not_exist_show_the_same_nothing(
    client, shop, search, viewer, other_team
):
    client.force_login(viewer)

    def page_for(slug: str) -> str:
        response = client.get(reverse("home"), {"team": slug})
        assert response.status_code == 200
        # The CSRF token changes with every response.
        page = re.sub(r'"X-CSRFToken": "[^"]+"', "", response.text)
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
        return page.replace(slug, "SLUG")

    hidden, unknown = page_for(other_team.slug), page_for("no-such-team")
    assert hidden == unknown
    assert "No clusters of this team that you can see" in hidden
    assert '<a href="/">All teams →</a>' in hidden
    # Neither the other team's cluster nor the user's own team's: the page of no cluster.
    for name in ("search-prod", "shop-prod", "Search", "Open findings"):
        assert name not in hidden, name


def test_the_period_switch_keeps_the_team_and_the_team_switch_keeps_the_period(
    client, shop, search, lead, team
):
    client.force_login(lead)
    page = client.get(reverse("home"), {"team": team.slug}).text
    period = page.split('aria-label="Trend period"')[1].split("</nav>")[0]
    assert 'href="?days=90&amp;team=payments"' in period
    assert 'hx-get="/?days=90&amp;team=payments"' in period

    ninety = client.get("/?days=90&team=payments").text
    assert "Average score of Payments over the last 90 days" in ninety
    assert "search-prod" not in ninety
    assert [href for _label, href, _current in switch(ninety)] == [
        "/?days=90",
        "/?team=payments&days=90",
        "/?team=search&days=90",
    ]


def test_the_trends_partial_of_one_team_draws_that_team_and_brings_the_switch_up_to_date(
    client, shop, search, lead, team
):
    client.force_login(lead)
    response = client.get(reverse("home"), {"days": "90", "team": team.slug}, **htmx())
    partial = response.text
    assert partial.lstrip().startswith('<section id="trends"')
    assert "<html" not in partial
    assert "HX-Request" in response.headers["Vary"]
    assert ">shop-prod</a>" in partial
    assert "search-prod" not in partial
    assert "Average score of Payments over the last 90 days" in partial
    # The switch sits above the trends: it is swapped in beside them, so that a team picked next
    # keeps the 90 days.
    assert (
        '<nav id="team-switch" class="segmented team-switch" aria-label="Team" hx-swap-oob="true">' in partial
    )
    assert ("Search", "/?team=search&days=90", False) in switch(partial)


def test_the_trends_partial_sends_no_switch_where_the_page_has_none(client, shop, viewer, team):
    client.force_login(viewer)
    partial = client.get(reverse("home"), {"days": "90", "team": team.slug}, **htmx()).text
    assert ">shop-prod</a>" in partial
    assert "team-switch" not in partial


def test_a_teams_figures_are_never_the_fleets_cached_ones(client, shop, search, lead, both, other_team):
    """The trend and who carries what are cached per set of clusters: the fleet's, read first, must not
    answer for one team's (Search's newest scan is the fleet's newest too, so only the ids tell them
    apart)."""
    for cluster in (shop, search):
        assign_and_overdue(cluster, both)
    shop.refresh_from_db()
    search.refresh_from_db()
    assert shop.last_scan.score != search.last_scan.score
    client.force_login(lead)

    def bos_open(page: str) -> int:
        return int(re.search(r'<th scope="row">bo</th><td><a href="[^"]+">(\d+)</a>', page)[1])

    fleet = client.get(reverse("home")).text
    assert bos_open(fleet) == Finding.objects.filter(assignee=both).count()
    one_team = client.get(reverse("home"), {"team": other_team.slug}).text
    assert bos_open(one_team) == Finding.objects.filter(assignee=both, cluster=search).count()
    score = f"{search.last_scan.score:.1f}"
    assert f"Average score of Search over the last 30 days: from {score} to {score}" in one_team


def test_a_teams_overview_costs_the_same_queries_for_two_teams_or_five(
    client, shop, search, lead, team, settings
):
    def page_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        # Nothing cached from the last look: the team's clusters are the same both times.
        settings.CACHES = {
            name: {**config, "KEY_PREFIX": f"{config.get('KEY_PREFIX', '')}-{uuid.uuid4().hex}"}
            for name, config in settings.CACHES.items()
        }
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("home"), {"team": team.slug}).text
        assert "search-prod" not in page
        return len(queries)

    client.force_login(lead)
    two = page_queries()
    for n in range(3):
        other = make_team(f"Team {n}")
        Membership.objects.create(team=other, user=lead, role=Role.VIEWER)
        scan_snapshot(make_cluster(other, name=f"c{n}"), as_yaml(deployment("web", privileged=True)))
    assert page_queries() == two
