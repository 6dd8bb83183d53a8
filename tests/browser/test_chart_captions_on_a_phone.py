"""On a phone a line chart scrolls sideways, opened at today; what it shows stays readable beside it."""

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_a_charts_caption_stays_in_view_while_the_chart_opens_on_today(page, seeded):
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, "eve")
    for url in ("/", f"/clusters/{seeded['cluster'].pk}/"):
        page.goto(url)
        figure = page.locator(".chart-figure").first
        assert figure.evaluate("f => f.scrollLeft") > 0, url  # the newest end of the chart shows
        caption = figure.locator("figcaption").bounding_box()
        window = figure.bounding_box()
        assert caption["x"] >= window["x"] - 1, url
        assert caption["x"] + caption["width"] <= window["x"] + window["width"] + 1, url
    assert page.problems == []
