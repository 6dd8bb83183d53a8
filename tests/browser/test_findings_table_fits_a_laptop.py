"""On a laptop the findings table fits its box, also with a row's "More…" form open."""

import pytest
from playwright.sync_api import expect

from findings import triage
from findings.models import Finding, FindingStatus
from tests.browser.conftest import log_in
from tests.factories import as_yaml, deployment, make_cluster, scan_snapshot

pytestmark = pytest.mark.browser

# How far the findings table scrolls sideways inside its box: 0 when it fits.
SIDEWAYS = "(b => b.scrollWidth - b.clientWidth)(document.querySelector('.table-wrap'))"


@pytest.mark.parametrize("width", [1280, 1440])
def test_a_rows_more_form_is_whole_without_scrolling_the_table_sideways(page, seeded, width):
    # Long names, as real clusters have, and mid-triage: some findings acknowledged, the widest status.
    cluster = make_cluster(seeded["cluster"].team, name="payments-eu-west-production")
    long_named = deployment(
        "settlement-orchestrator-worker", namespace="payments-settlement-batch", privileged=True
    )
    scan_snapshot(cluster, as_yaml(long_named))
    for finding in Finding.objects.filter(status=FindingStatus.OPEN, severity__in=["critical", "high"])[:5]:
        triage.change_status(finding, FindingStatus.ACKNOWLEDGED, actor=seeded["engineer"])
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "eve")
    page.goto("/findings/?status=open&status=acknowledged")
    assert page.evaluate(SIDEWAYS) <= 0
    row = page.locator("tr.finding-row").first
    row.get_by_text("More…").click()
    save = row.get_by_role("button", name="Save")
    expect(save).to_be_visible()
    assert page.evaluate(SIDEWAYS) <= 0
    edge = page.evaluate("document.querySelector('.table-wrap').getBoundingClientRect().right")
    for control in (save, row.get_by_label("Until (needed to accept a risk)"), row.get_by_label("Mark as")):
        box = control.bounding_box()
        assert box["x"] + box["width"] <= edge
    assert page.problems == []
