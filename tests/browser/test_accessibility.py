"""Every page passes the WCAG 2.1 A and AA rules of axe-core, the engine behind browsers' own
accessibility audits: labels, contrast, landmarks, names of buttons and links, ARIA used right.

axe-core is fetched by `make axe-core` (CI does); it is injected into each page, so the browser
context here ignores the pages' Content-Security-Policy, which would rightly refuse the script.
"""

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from findings.models import Finding
from tests.browser.conftest import log_in

AXE = Path(__file__).resolve().parents[2] / ".tools" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not AXE.exists(), reason="`make axe-core` fetches the accessibility rules"),
]


@pytest.fixture
def audited(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def violations(page) -> list[str]:
    """What axe-core finds on the page as it stands, one line per rule broken."""
    page.add_script_tag(content=AXE.read_text())
    found = page.evaluate(
        "rules => axe.run(document, {runOnly: rules}).then(result => result.violations)", RULES
    )
    return [
        f"{page.url}: {rule['id']} ({rule['impact']}): {rule['help']} at "
        + ", ".join(" ".join(node["target"]) for node in rule["nodes"][:3])
        for rule in found
    ]


def test_every_page_meets_wcag_2_1_aa(audited, seeded, settings):
    settings.RAMPART_MFA_REQUIRED = "none"  # the admin logs in with a password alone here
    cluster = seeded["cluster"]
    finding = Finding.objects.filter(cluster=cluster).order_by("pk").first()
    # The audit log is for those given its permission (an auditor), not for team admins as such.
    seeded["admin"].user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    audited.goto(reverse("accounts:login"))
    problems = violations(audited)
    # The login page as it is with single sign-on configured: its button and the "or" between.
    settings.RAMPART_OIDC_ISSUER = "https://sso.example.com/realms/ops"  # rendered without asking it
    audited.goto(reverse("accounts:login"))
    assert audited.get_by_role("link", name="Log in with single sign-on").is_visible()
    problems += violations(audited)
    settings.RAMPART_OIDC_ISSUER = ""
    log_in(audited, "abe")
    urls = [
        reverse("home"),
        reverse("posture:cluster-list"),
        reverse("posture:cluster-detail", args=[cluster.pk]),
        reverse("posture:cluster-edit", args=[cluster.pk]),
        reverse("posture:cluster-agent", args=[cluster.pk]),
        reverse("posture:cluster-create"),
        reverse("posture:scan-detail", args=[cluster.last_scan_id]),
        reverse("findings:finding-list"),
        reverse("findings:finding-detail", args=[finding.pk]),
        reverse("findings:check-list"),
        reverse("findings:exception-list"),
        reverse("findings:exception-create"),
        reverse("notifications:list"),
        reverse("accounts:team-list"),
        reverse("accounts:team-detail", args=[cluster.team_id]),
        reverse("accounts:token-list"),
        reverse("accounts:security"),
        reverse("accounts:password-change"),
        reverse("accounts:audit-list"),
    ]
    for url in urls:
        response = audited.goto(url)
        assert response.status == 200, url
        problems += violations(audited)

    # A form sent with mistakes: its errors must be tied to their fields.
    audited.goto(reverse("posture:cluster-create"))
    audited.get_by_role("button", name="Register").click()
    audited.wait_for_load_state()
    problems += violations(audited)

    assert problems == []
