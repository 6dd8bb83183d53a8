"""The dashboard in a real browser: log in, read, filter, triage inline and in bulk, scan."""

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from accounts.models import ApiToken
from findings.models import Finding, FindingStatus
from posture.models import Scan, ScanStatus
from tests.browser.conftest import log_in, screenshot
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_logging_in_through_the_form_shows_the_demo_on_the_overview(page, seeded):
    log_in(page, "eve")
    page.goto("/")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="demo-shop-prod").first).to_be_visible()
    expect(page.locator("svg.chart.spark")).to_have_count(1)
    expect(page.locator("svg.chart.line title").first).to_contain_text("Average fleet score")
    screenshot(page, "overview")
    assert page.problems == []


def test_filtering_findings_puts_the_filters_in_the_url(page, seeded):
    log_in(page, "eve")
    page.goto("/findings/")
    page.evaluate("window.rampartMarker = 'still here'")
    page.get_by_role("checkbox", name="Critical").check()
    page.wait_for_url(re.compile(r"severity=critical"))
    assert "=&" not in page.url  # the empty filters stay out of the shared URL
    assert page.url.endswith("/findings/?sort=severity&severity=critical")
    rows = page.locator("tr.finding-row")
    expect(rows.first).to_be_visible()
    expect(page.locator("tr.finding-row .sev:not(.sev-critical)")).to_have_count(0)
    assert page.evaluate("window.rampartMarker") == "still here"  # swapped in place, not reloaded
    page.get_by_role("checkbox", name="High").check()
    page.wait_for_url(re.compile(r"severity=critical&severity=high"))
    page.go_back()  # htmx restores the previous view: the whole page, not a fragment of it
    page.wait_for_url(re.compile(r"severity=critical$"))
    expect(page.get_by_role("heading", name="Findings", level=1)).to_have_count(1)
    expect(page.get_by_role("checkbox", name="High")).not_to_be_checked()
    expect(page.locator("tr.finding-row .sev:not(.sev-critical)")).to_have_count(0)
    page.reload()  # a shared link shows the same view
    expect(page.get_by_role("checkbox", name="Critical")).to_be_checked()
    screenshot(page, "findings")
    assert page.problems == []


def test_assigning_a_finding_inline_updates_its_row_without_a_reload(page, seeded):
    log_in(page, "eve")
    page.goto("/findings/?status=open")
    page.evaluate("window.rampartMarker = 42")
    row = page.locator("tr.finding-row").first
    finding_id = int(row.get_attribute("id").removeprefix("finding-"))
    row.get_by_role("combobox").select_option(label="eve")
    row = page.locator(f"#finding-{finding_id}")
    expect(row).to_contain_text("Assigned to eve.")
    assert page.evaluate("window.rampartMarker") == 42
    assert Finding.objects.get(pk=finding_id).assignee.username == "eve"
    row.get_by_role("button", name="Acknowledge").focus()
    page.keyboard.press("Enter")  # from the keyboard: where does focus go once the row is replaced?
    expect(page.locator(f"#finding-{finding_id}")).to_contain_text("Finding acknowledged.")
    expect(page.locator(f"#finding-{finding_id} .state")).to_have_text("Acknowledged")
    # Focus moves once htmx has settled the swap, on a timer that a loaded machine may run a
    # moment after the new row shows: wait for it (a few seconds at most) rather than sample once.
    focused_in_row = f"document.querySelector('#finding-{finding_id}').contains(document.activeElement)"
    try:
        page.wait_for_function(focused_in_row, timeout=5000)
    except PlaywrightTimeout:
        raise AssertionError(page.evaluate("document.activeElement.outerHTML.slice(0, 120)")) from None
    assert page.evaluate("window.rampartMarker") == 42
    assert page.problems == []


def test_bulk_acknowledge_reports_the_outcome(page, seeded):
    log_in(page, "eve")
    page.goto("/findings/?status=open&sort=last_seen")
    page.evaluate("window.rampartMarker = 'bulk'")
    boxes = page.locator('input[name="ids"]')
    chosen = [int(boxes.nth(n).get_attribute("value")) for n in range(3)]
    for n in range(3):
        boxes.nth(n).check()
    expect(page.locator('[data-selected-count="bulk"]')).to_have_text("3 findings selected")
    page.get_by_label("With the selected findings").select_option("acknowledged")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#bulk-outcome")).to_have_text("3 acknowledged.")
    assert page.evaluate("window.rampartMarker") == "bulk"
    statuses = set(Finding.objects.filter(pk__in=chosen).values_list("status", flat=True))
    assert statuses == {FindingStatus.ACKNOWLEDGED}
    # "Select all" picks every row on the page.
    page.get_by_label("Select every finding on this page").check()
    expect(page.locator('[data-selected-count="bulk"]')).to_have_text("50 findings selected")
    assert page.problems == []


def test_scan_now_shows_the_scan_in_progress_then_finished(page, seeded):
    from posture import services

    cluster = seeded["cluster"]
    log_in(page, "eve")
    page.goto(f"/clusters/{cluster.pk}/")
    page.evaluate("window.rampartMarker = 'scan'")
    # The live server runs tasks eagerly: the scan is done when "Scan now" answers. Held back
    # for a moment here, the request shows what it is doing and cannot be sent twice.
    held = []
    page.route(f"**/clusters/{cluster.pk}/scan/", lambda route: held.append(route))
    page.get_by_role("button", name="Scan now").click()
    expect(page.locator("#scans .progress")).to_have_text("Scanning… the page updates when the scan is done.")
    expect(page.get_by_role("button", name="Scan now")).to_be_disabled()
    with page.expect_response(lambda response: response.url.endswith(f"/clusters/{cluster.pk}/scan/")):
        held[0].continue_()
    page.unroute(f"**/clusters/{cluster.pk}/scan/")
    done = Scan.objects.filter(cluster=cluster).latest("created_at")
    expect(page.locator(f"#scan-{done.pk}")).to_contain_text("Succeeded")

    # A scan a worker has not finished yet: the page polls until it is.
    queued = services.start_scan(cluster, enqueue=False)
    page.goto(f"/clusters/{cluster.pk}/")
    page.evaluate("window.rampartMarker = 'scan'")
    expect(page.locator(f"#scan-{queued.pk}")).to_contain_text("Queued")
    expect(page.locator("#scans .progress")).to_contain_text(f"Scan #{queued.pk}")
    expect(page.get_by_role("button", name="Scan now")).to_be_disabled()
    assert services.run_scan(queued.pk).status == ScanStatus.SUCCEEDED
    expect(page.locator(f"#scan-{queued.pk}")).to_contain_text("Succeeded", timeout=8_000)
    expect(page.get_by_role("button", name="Scan now")).to_be_enabled()
    assert page.evaluate("window.rampartMarker") == "scan"  # polled in place, never reloaded
    screenshot(page, "cluster")
    assert page.problems == []


def test_a_finished_scan_updates_the_whole_cluster_page_in_place(page, seeded):
    """Score, trend, namespaces and the last scan's failure follow the scan that just ended."""
    from posture import services
    from tests.factories import as_json_list, deployment, make_cluster

    team = seeded["cluster"].team
    fresh = make_cluster(team, name="fresh")
    services.store_snapshot(fresh, as_json_list(deployment(name="api", namespace="orders", privileged=True)))
    log_in(page, "eve")
    page.goto(f"/clusters/{fresh.pk}/?days=90")
    page.evaluate("window.rampartMarker = 'fresh'")
    expect(page.locator("#score-box")).to_have_text("not scanned")
    expect(page.locator("#trend")).to_contain_text("No finished scans in this period yet")
    expect(page.locator("#namespaces")).to_contain_text("No scan has finished yet")

    # Tasks run eagerly here: "Scan now" answers with the finished scan, and the rest follows.
    with page.expect_response(lambda response: response.url.endswith(f"/clusters/{fresh.pk}/scan/")):
        page.get_by_role("button", name="Scan now").click()
    scan = Scan.objects.filter(cluster=fresh).latest("created_at")
    expect(page.locator("#score-box .grade")).to_have_text(scan.grade)
    expect(page.locator("#trend svg.chart.line")).to_have_count(1)
    expect(page.locator("#trend [aria-current]")).to_have_text("90 days")  # the period the page showed
    expect(page.get_by_role("link", name="orders")).to_be_visible()

    # A scan a worker ends later, and badly: the polling card brings the failure up too.
    broken = make_cluster(team, name="never-uploaded")
    failing = services.start_scan(broken, enqueue=False)
    page.goto(f"/clusters/{broken.pk}/")
    page.evaluate("window.rampartMarker = 'broken'")
    expect(page.locator("#last-scan-alert")).to_be_empty()
    assert services.run_scan(failing.pk).status == ScanStatus.FAILED
    expect(page.locator("#last-scan-alert")).to_contain_text("The last scan failed", timeout=8_000)
    expect(page.locator("#last-scan-alert")).to_contain_text("no snapshot has been uploaded")
    assert page.evaluate("window.rampartMarker") == "broken"  # in place, never reloaded
    assert page.problems == []


def test_the_main_pages_render_cleanly_and_are_saved_as_screenshots(page, seeded, settings):
    settings.RAMPART_MFA_REQUIRED = "none"  # the admin logs in with a password alone here
    cluster = seeded["cluster"]
    log_in(page, "abe")
    finding = Finding.objects.filter(cluster=cluster, check_id="privileged-container").first() or (
        Finding.objects.filter(cluster=cluster).first()
    )
    pages = {
        "finding": f"/findings/{finding.pk}/",
        "scan": f"/clusters/scans/{cluster.last_scan_id}/",
        "checks": "/findings/checks/",
        "exceptions": "/findings/exceptions/",
        "register": "/clusters/new/",
        "notifications": "/notifications/",
        "team": f"/accounts/teams/{cluster.team_id}/",
    }
    for name, url in pages.items():
        response = page.goto(url)
        assert response.status == 200, url
        expect(page.locator("h1")).to_be_visible()
        if name == "register":
            # The connection fields follow the chosen mode; "Test connection" is for live modes.
            expect(page.locator('[data-modes="token"]')).to_be_hidden()
            expect(page.get_by_role("button", name="Test connection")).to_be_hidden()
            page.get_by_label("Connection mode").select_option("token")
            expect(page.get_by_label("Bearer token")).to_be_visible()
            expect(page.get_by_role("button", name="Test connection")).to_be_visible()
        screenshot(page, name, full_page=name != "checks")
    assert page.problems == []


WIDER_THAN_THE_WINDOW = """() => Array.from(document.querySelectorAll("main *"))
    .filter(el => el.checkVisibility() && el.getBoundingClientRect().right > window.innerWidth + 1)
    .map(el => el.tagName + "." + el.className)"""


UNLABELLED_CONTROLS = """() => Array.from(document.querySelectorAll("main :is(input, select, textarea)"))
    .filter(el => el.type !== "hidden" && el.checkVisibility())
    .filter(el => !(el.labels && el.labels.length))
    .filter(el => !el.getAttribute("aria-label") && !el.textContent.trim())
    .map(el => el.outerHTML.slice(0, 80))"""


def test_pages_fit_a_tablet_and_work_from_the_keyboard(page, seeded):
    page.set_viewport_size({"width": 768, "height": 1024})
    log_in(page, "eve")
    cluster = seeded["cluster"]
    for url in ("/", "/findings/", f"/clusters/{cluster.pk}/", f"/clusters/scans/{cluster.last_scan_id}/"):
        page.goto(url)
        wide = page.evaluate(WIDER_THAN_THE_WINDOW)
        assert wide == [], f"{url} is wider than a 768px tablet: {wide[:5]}"
    page.goto("/findings/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"  # visible focus
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the skip link moved focus into the page itself
    assert page.evaluate("document.activeElement.closest('main') !== null")
    unlabelled = page.evaluate(UNLABELLED_CONTROLS)
    assert unlabelled == [], f"controls without a label: {unlabelled}"
    assert page.problems == []


def test_revoking_an_exception_asks_first_and_a_no_keeps_it(page, seeded, settings):
    from findings.models import ExceptionRule

    settings.RAMPART_MFA_REQUIRED = "none"  # the admin logs in with a password alone here
    log_in(page, "abe")
    page.goto("/findings/exceptions/")
    revoke = page.get_by_role("button", name=re.compile(r"Revoke exception #\d+"))
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    revoke.click()
    expect(revoke).to_be_visible()
    assert "The findings it accepted go back to open, or to acknowledged if they were." in questions[0]
    assert ExceptionRule.objects.get().revoked_at is None
    page.once("dialog", lambda dialog: dialog.accept())
    revoke.click()
    expect(page.locator(".state-revoked")).to_be_visible()
    assert ExceptionRule.objects.get().revoked_at is not None
    assert page.problems == []


def test_an_admin_sets_up_an_agent_from_the_cluster_page(page, seeded, settings):
    from posture.models import IngestToken

    settings.RAMPART_MFA_REQUIRED = "none"  # the admin logs in with a password alone here
    cluster = seeded["cluster"]
    log_in(page, "abe")
    page.goto(f"/clusters/{cluster.pk}/")
    page.get_by_role("link", name="Set up the agent →").click()
    page.get_by_label("Name").fill("cronjob in prod-eu")
    page.get_by_role("button", name="Issue token").click()
    token = page.get_by_label("The ingest token").input_value()
    assert token.startswith("rpi_")
    expect(page.locator(".token-once")).to_contain_text(f"--cluster-id {cluster.pk} --token-file ./token")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token
    page.reload()  # shown once: a reload lists the token without it
    expect(page.locator(".token-once")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(token)

    issued = IngestToken.objects.get(cluster=cluster)
    revoke = page.get_by_role("button", name=f"Revoke token cronjob in prod-eu (rpi_{issued.token_id})")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    revoke.click()
    # Two tokens may share a name: the question names which one, as the list does.
    expect(page.locator(".state-revoked")).to_have_count(1)
    assert f"(rpi_{issued.token_id}_…)" in asked[0]
    expect(page.locator(".state-revoked")).to_have_text("Revoked")
    assert IngestToken.objects.get(cluster=cluster).revoked_at is not None
    assert page.problems == []


def test_the_api_docs_render_within_the_content_security_policy(page, seeded):
    log_in(page, "eve")
    page.goto("/api/docs/")
    expect(page.get_by_role("heading", name=re.compile("Rampart API"))).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.problems == []  # a blocked inline style or script would be reported here


def test_the_main_pages_fit_a_phone_without_sideways_scrolling(page, seeded):
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, "eve")
    finding = Finding.objects.filter(check_id="secret-not-rotated").first()
    for url in (
        "/",
        "/clusters/",
        "/findings/",
        f"/findings/{finding.pk}/",
        "/findings/checks/",
        "/findings/exceptions/",
    ):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
        header = page.locator("header.topbar").bounding_box()
        assert header["height"] < 100, url  # brand and account, then one scrolling row of sections
        current = page.locator('.topbar nav [aria-current="page"]').bounding_box()
        assert current["x"] >= 0, url  # where you are shows
        assert current["x"] + current["width"] <= 390, url
        if url == "/":
            # The row fades at its end while sections are hidden there; the chart opens on today.
            assert page.evaluate("document.querySelector('.topbar nav').classList.contains('more')")
            assert page.evaluate("document.querySelector('.chart-figure').scrollLeft") > 0
    assert page.problems == []


def test_on_a_phone_the_findings_open_with_the_search_and_all_filters_a_tap_away(page, seeded):
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, "eve")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Findings").click()
    expect(page.locator("#id_q")).to_be_visible()
    expect(page.locator("#id_cluster")).to_be_hidden()
    assert page.locator("#results").bounding_box()["y"] < 800  # the findings start on the first screen
    page.get_by_role("button", name="All filters").click()
    expect(page.locator("#id_cluster")).to_be_visible()
    page.locator("#id_category").select_option("rbac")
    expect(page).to_have_url(re.compile(r"category=rbac"))
    page.reload()
    expect(page.locator("#id_category")).to_be_visible()  # a filter in use keeps them open
    assert page.problems == []


def test_the_admin_pages_fit_a_phone_without_sideways_scrolling(page, seeded, settings):
    settings.RAMPART_MFA_REQUIRED = "none"  # the admin logs in with a password alone here
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, "abe")
    cluster = seeded["cluster"]
    ApiToken.issue(seeded["admin"], name="nightly export to the data warehouse", scope=ApiToken.Scope.READ)
    for url in (
        "/accounts/tokens/",
        "/findings/exceptions/",
        "/notifications/",
        f"/accounts/teams/{cluster.team_id}/",
        f"/clusters/{cluster.pk}/",
        f"/clusters/{cluster.pk}/edit/",
        f"/clusters/{cluster.pk}/agent/",
    ):
        page.goto(url)
        wide = page.evaluate(WIDER_THAN_THE_WINDOW)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, (url, wide[:5])
    assert page.problems == []


# Each piece of a cell's words, between spaces, hyphens and slashes, with the lines it is drawn on:
# a piece drawn on two lines was broken mid-word ("Succe eded", "2026 -11- 27").
WORDS_BROKEN_IN_TABLE_CELLS = r"""() => {
  const broken = [];
  for (const cell of document.querySelectorAll("table.data td")) {
    if (!cell.checkVisibility()) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const piece of node.data.matchAll(/[^\s\-\/]+/g)) {
        const range = document.createRange();
        range.setStart(node, piece.index);
        range.setEnd(node, piece.index + piece[0].length);
        const lines = new Set(Array.from(range.getClientRects(), rect => Math.round(rect.bottom)));
        if (lines.size > 1) broken.push(piece[0]);
      }
    }
  }
  return broken;
}"""


def test_on_a_phone_tables_keep_words_and_dates_whole(page, seeded, settings):
    """A phone scrolls a wide table sideways; its cells must not be squeezed to a letter or two."""
    settings.RAMPART_MFA_REQUIRED = "none"  # the admin logs in with a password alone here
    seeded["admin"].is_superuser = True  # the audit log is for superusers
    seeded["admin"].save(update_fields=["is_superuser"])
    ApiToken.issue(seeded["admin"], name="nightly export to the data warehouse", scope=ApiToken.Scope.READ)
    cluster = seeded["cluster"]
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, "abe")
    for url in (
        "/findings/",
        f"/clusters/{cluster.pk}/",
        "/findings/exceptions/",
        "/accounts/tokens/",
        "/accounts/audit/",
        "/accounts/teams/",
        f"/accounts/teams/{cluster.team_id}/",
        "/notifications/",
    ):
        page.goto(url)
        assert page.evaluate(WORDS_BROKEN_IN_TABLE_CELLS) == [], url
        # The table scrolls sideways, not the page.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
    page.goto(f"/clusters/{cluster.pk}/")
    status = page.locator("table.scans .status").first
    started = page.locator("table.scans time").first
    expect(status).to_have_text("Succeeded")
    for cell_text in (status, started):  # "Succeeded" and "2026-11-27 03:00" each on one line
        assert cell_text.evaluate("el => el.getClientRects().length") == 1
    assert page.problems == []


def test_when_the_session_has_ended_a_button_leads_to_the_login_page_and_back(page, seeded):
    """htmx would follow the login redirect and paste the login form into the row that asked."""
    log_in(page, "eve")
    page.goto("/findings/?status=open")
    row = page.locator("tr.finding-row").first
    finding_id = int(row.get_attribute("id").removeprefix("finding-"))
    page.context.clear_cookies(name="sessionid")  # what the idle timeout does to the browser's cookie
    row.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url("**/accounts/login/**")
    expect(page.locator(".messages")).to_contain_text("Your session has ended. Log in again")
    assert page.locator("tr.finding-row").count() == 0  # a whole login page, not a row holding one
    assert Finding.objects.get(pk=finding_id).status == FindingStatus.OPEN
    page.get_by_label("Username").fill("eve")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/findings/?status=open")
    expect(page.locator(f"#finding-{finding_id}")).to_be_visible()
    assert page.problems == []


def test_an_upload_says_it_is_under_way_and_cannot_be_sent_twice(page, seeded, tmp_path):
    from tests.factories import as_yaml, deployment

    cluster = seeded["cluster"]
    snapshot = tmp_path / "cluster.yaml"
    snapshot.write_bytes(as_yaml(deployment("web", privileged=True)))
    log_in(page, "eve")
    page.goto(f"/clusters/{cluster.pk}/")
    # What the button shows once the form is sent, kept past the page it leaves.
    page.evaluate(
        """document.addEventListener("submit", () => {
             const button = document.querySelector("form.upload button");
             sessionStorage.setItem("sent", JSON.stringify([button.disabled, button.textContent]));
           })"""
    )
    before = Scan.objects.filter(cluster=cluster).count()
    page.get_by_label("Snapshot file").set_input_files(str(snapshot))
    page.get_by_role("button", name="Upload and scan").click()
    expect(page.locator(".messages")).to_contain_text("Snapshot uploaded")
    # The live server scans in the request, as make run does.
    assert page.evaluate("JSON.parse(sessionStorage.getItem('sent'))") == [True, "Uploading and scanning…"]
    assert Scan.objects.filter(cluster=cluster).count() == before + 1
    assert page.problems == []
