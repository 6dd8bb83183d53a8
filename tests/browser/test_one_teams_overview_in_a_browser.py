"""A lead of two teams picks one in the overview's team switch and reads that team's clusters alone,
and keeps it while changing the trend's period."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import lead_of_two_teams, log_in

pytestmark = pytest.mark.browser


def test_a_lead_picks_one_team_on_the_overview_and_sees_its_clusters_alone(page, seeded):
    platform = seeded["cluster"].team
    lead_of_two_teams(seeded)  # lena: the demo's Platform, and Search with its cluster search-prod

    log_in(page, "lena")
    page.goto("/")
    teams = page.get_by_role("navigation", name="Team")
    expect(teams.get_by_role("link", name="All teams")).to_have_attribute("aria-current", "page")
    teams.get_by_role("link", name="Search").click()
    page.wait_for_url(re.compile(r"/\?team=search$"))
    expect(page.get_by_role("heading", name="Overview — Search", level=1)).to_be_visible()
    expect(teams.get_by_role("link", name="Search")).to_have_attribute("aria-current", "page")
    trends = page.locator("#trends")
    expect(trends.get_by_role("link", name="search-prod")).to_be_visible()
    expect(page.get_by_text("demo-shop-prod")).to_have_count(0)

    # The period is redrawn in place and keeps the team; the switch then keeps the period.
    trends.get_by_role("link", name="90 days").click()
    page.wait_for_url(re.compile(r"/\?days=90&team=search$"))
    expect(page.locator("svg.chart.line title").first).to_contain_text(
        "Average score of Search over the last 90"
    )
    expect(page.get_by_text("demo-shop-prod")).to_have_count(0)
    teams.get_by_role("link", name=platform.name).click()
    page.wait_for_url(re.compile(rf"/\?team={platform.slug}&days=90$"))
    expect(trends.get_by_role("link", name="demo-shop-prod")).to_be_visible()
    expect(page.get_by_text("search-prod")).to_have_count(0)
    assert page.problems == []
