"""A team admin pauses the demo cluster's scans from its page in a real browser, sees the banner, and
resumes them."""

import pytest
from playwright.sync_api import expect

from posture.models import Cluster
from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_an_admin_pauses_with_a_reason_sees_the_banner_and_resumes(page, seeded):
    cluster = seeded["cluster"]
    log_in(page, "abe")
    page.goto(f"/clusters/{cluster.pk}/")
    expect(page.locator("#pause-banner")).to_have_count(0)

    page.get_by_text("Pause scanning…").click()
    page.get_by_label("Reason").fill("Node pool rebuild until Friday")
    page.get_by_role("button", name="Pause scanning").click()

    banner = page.locator("#pause-banner")
    expect(banner).to_contain_text("Paused since")
    expect(banner).to_contain_text("by abe — Node pool rebuild until Friday")
    expect(page.get_by_role("button", name="Scan now")).to_be_disabled()
    assert Cluster.objects.get(pk=cluster.pk).pause_reason == "Node pool rebuild until Friday"
    screenshot(page, "cluster-paused", full_page=False)

    banner.get_by_role("button", name="Resume scanning").click()

    expect(page.get_by_text("Scanning of demo-shop-prod resumed")).to_be_visible()
    expect(page.locator("#pause-banner")).to_have_count(0)
    expect(page.get_by_role("button", name="Scan now")).to_be_enabled()
    assert not Cluster.objects.get(pk=cluster.pk).is_paused
    assert page.problems == []
