"""A real Chromium (Debian's, driven by Playwright) against pytest-django's live server.

The live server runs in this process, so tasks run eagerly: "Scan now" scans
inside the request. Data is seeded per test (transactional_db) and committed,
so the server thread sees it.
"""

import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Role
from tests.factories import TEST_PASSWORD, make_user

# Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
# between browser steps are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The README's screenshots are rewritten only on request (`make screenshots`), so that a test run
# leaves the checkout clean; otherwise they are still taken, into a temporary folder.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("RAMPART_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "rampart-screenshots"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if not executable:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Problems(list):
    """Console errors and uncaught exceptions: a CSP violation shows up here."""


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.problems = Problems()
    tab.on("console", lambda message: message.type == "error" and tab.problems.append(message.text))
    tab.on("pageerror", lambda error: tab.problems.append(str(error)))
    yield tab
    context.close()


@pytest.fixture
def seeded(transactional_db, settings, tmp_path):
    """The demo cluster (5 days, 20 workloads), an engineer and an admin of its team, one exception."""
    from findings import services
    from findings.models import ExceptionRule
    from posture.models import Cluster

    settings.DATA_DIR = tmp_path
    call_command("seed_demo", days=5, workloads=20, stdout=open(os.devnull, "w"))  # noqa: SIM115
    cluster = Cluster.objects.select_related("team").get(name="demo-shop-prod")
    engineer = make_user(cluster.team, Role.ENGINEER, username="eve")
    admin = make_user(cluster.team, Role.ADMIN, username="abe")
    rule = ExceptionRule(
        team=cluster.team,
        cluster=cluster,
        check_ids=["host-network"],
        namespace_pattern="monitoring*",
        reason="The node log shipper needs the host network; replaced by the managed agent in Q3.",
        owner=admin,
        expires_at=timezone.now() + timedelta(days=90),
    )
    services.create_exception_rule(rule, actor=admin)
    return {"cluster": cluster, "engineer": engineer, "admin": admin}


def log_in(page, username: str) -> None:
    """Through the login form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def screenshot(page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def lead_of_two_teams(seeded):
    """lena, a viewer of the demo's team and of Search, whose cluster search-prod has one finding."""
    from accounts.models import Membership
    from tests.factories import as_yaml, deployment, make_cluster, make_team, scan_snapshot

    search = make_team("Search")
    scan_snapshot(make_cluster(search, name="search-prod"), as_yaml(deployment("index", privileged=True)))
    lead = make_user(seeded["cluster"].team, Role.VIEWER, username="lena")
    Membership.objects.create(team=search, user=lead, role=Role.VIEWER)
    return lead
