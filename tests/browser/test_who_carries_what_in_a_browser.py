"""A lead of two teams reads who carries what on the overview, on a laptop, and follows a number
to the findings it counts."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from findings import triage
from findings.models import Finding
from tests.browser.conftest import lead_of_two_teams, log_in

pytestmark = pytest.mark.browser


def test_a_lead_follows_an_engineers_overdue_findings_from_the_overview(page, seeded):
    lead_of_two_teams(seeded)  # lena: the demo's Platform, and Search with its cluster search-prod
    late = Finding.objects.filter(cluster=seeded["cluster"], status="open", severity="critical")[:3]
    eves = Finding.objects.filter(pk__in=[finding.pk for finding in late])
    triage.assign(eves, seeded["engineer"], actor=seeded["engineer"])
    eves.update(due_at=timezone.now() - timedelta(days=2))

    log_in(page, "lena")
    teams = page.locator("section", has=page.get_by_role("heading", name="Open findings by team"))
    expect(teams.get_by_role("row", name=re.compile("^Platform"))).to_be_visible()
    expect(teams.get_by_role("row", name=re.compile("^Search"))).to_be_visible()
    # Seven columns in half the page: the table fits its box, nothing scrolls sideways.
    assert teams.locator(".table-wrap").evaluate("box => box.scrollWidth - box.clientWidth") <= 0

    people = page.locator("section", has=page.get_by_role("heading", name="Open findings by assignee"))
    eve = people.get_by_role("row", name=re.compile("^eve"))
    expect(eve.get_by_role("cell").nth(1)).to_have_text("3")
    eve.get_by_role("link", name="3").last.click()
    page.wait_for_url(re.compile(r"/findings/\?assignee=\d+&overdue=true&sort=due$"))
    expect(page.locator(".result-count")).to_contain_text("3 findings")
    assert page.problems == []
