"""Two-factor authentication in a real browser: enrolment at the first login, TOTP, recovery codes, lockout.

The policy is RAMPART_MFA_REQUIRED=admins, so a team admin is sent to enrolment
by the login itself. Codes come from pyotp and the setup key the page shows, as
an authenticator app would compute them. A TOTP code is accepted once per
30-second step (the confirming code claims its step), so the TOTP login waits for
the next step when it comes too soon; the recovery code login goes first so that
the wait is usually short, and never longer than one step.
"""

import re
import time
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect

from accounts import mfa
from accounts.models import Role, TotpDevice
from tests.factories import TEST_PASSWORD, make_team, make_user

pytestmark = pytest.mark.browser

STEP = mfa.STEP_SECONDS
WRONG_CODE_MESSAGE = "That code did not work"
LOCKED_MESSAGE = "Too many failed attempts. Wait 15 minutes before you try again."

HOME = re.compile(r"^https?://[^/]+/$")  # where a login lands: the overview


@pytest.fixture
def team_admin(transactional_db, settings):
    settings.RAMPART_MFA_REQUIRED = "admins"
    return make_user(make_team("Payments"), Role.ADMIN, username="abe")


@pytest.fixture
def enrolled_admin(team_admin):
    device = mfa.begin_enrolment(team_admin)
    secret = mfa.secret_of(device)
    mfa.confirm_enrolment(team_admin, pyotp.TOTP(secret).now())
    return team_admin, secret


def password_step(page, username: str, password: str = TEST_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")


def expect_logged_out(page) -> None:
    page.goto("/clusters/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def expect_logged_out_in_another_tab(page) -> None:
    """Half-way through the login nothing is open yet: another tab still meets the login form."""
    other = page.context.new_page()
    other.goto("/clusters/")
    expect(other).to_have_url(re.compile(r"/accounts/login/"))
    other.close()


def current_step() -> int:
    return int(time.time()) // STEP


def wait_for_a_step_after(step: int) -> None:
    """Until a TOTP code of a newer step than ``step`` exists (never more than one step)."""
    deadline = time.monotonic() + STEP + 1
    while current_step() <= step:
        assert time.monotonic() < deadline, "the clock did not reach the next 30-second step"
        time.sleep(0.2)


def test_an_admin_enrols_at_login_then_logs_in_with_totp_and_with_a_recovery_code_once(page, team_admin):
    # Password only: the policy sends a team admin to set up an authenticator before the login completes.
    password_step(page, "abe")
    page.wait_for_url("**/accounts/login/enrol/")
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect(page.get_by_text("Your account must use a second factor")).to_be_visible()
    expect(page.get_by_role("img", name="QR code holding the setup key shown below")).to_be_visible()
    expect_logged_out_in_another_tab(page)

    secret = "".join(page.get_by_label("Setup key").inner_text().split())
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    # The recovery codes, shown this once.
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.get_by_text("this is the only time they are shown")).to_be_visible()
    codes = [
        code.strip()
        for code in page.get_by_role("list", name="Recovery codes").locator("code").all_inner_texts()
    ]
    assert len(codes) == mfa.RECOVERY_CODE_COUNT
    assert len(set(codes)) == len(codes)
    recovery_code = codes[0]
    # Saved without retyping: a text file to download, or the clipboard.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as a text file").click()
    assert download.value.suggested_filename == "rampart-recovery-codes.txt"
    assert Path(download.value.path()).read_text().split() == codes
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()").split() == codes
    page.get_by_role("link", name="I have saved them, continue").click()
    page.wait_for_url(HOME)
    page.goto("/accounts/security/")
    expect(page.get_by_text(f"{mfa.RECOVERY_CODE_COUNT} unused recovery codes left")).to_be_visible()
    assert all(code not in page.content() for code in codes), "the codes are never shown again"
    confirmed_step = TotpDevice.objects.get(user=team_admin).last_used_step
    assert confirmed_step is not None
    log_out(page)

    # A recovery code instead of the authenticator: it logs in, and says how many are left.
    password_step(page, "abe")
    page.wait_for_url("**/accounts/login/verify/")
    page.get_by_text("Lost your authenticator? Use a recovery code").click()
    page.get_by_label("Recovery code").fill(recovery_code)
    page.get_by_role("button", name="Use recovery code").click()
    page.wait_for_url(HOME)
    expect(page.get_by_text(f"You used a recovery code; {mfa.RECOVERY_CODE_COUNT - 1} left.")).to_be_visible()
    log_out(page)

    # The password and a code from the authenticator, of a step after the one that confirmed it.
    wait_for_a_step_after(confirmed_step)
    password_step(page, "abe")
    page.wait_for_url("**/accounts/login/verify/")
    expect(page.get_by_label("Six-digit code")).to_have_attribute("autocomplete", "one-time-code")
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(HOME)
    expect(page.get_by_role("link", name="abe")).to_be_visible()
    log_out(page)

    # The same recovery code a second time: refused, with a message, and no login.
    password_step(page, "abe")
    page.wait_for_url("**/accounts/login/verify/")
    page.get_by_text("Lost your authenticator? Use a recovery code").click()
    page.get_by_label("Recovery code").fill(recovery_code)
    page.get_by_role("button", name="Use recovery code").click()
    expect(page.get_by_role("alert")).to_contain_text("That recovery code did not work: each one works once.")
    expect(page).to_have_url(re.compile(r"/accounts/login/verify/$"))
    expect_logged_out(page)
    assert page.problems == []


def test_a_wrong_code_shows_an_error_and_does_not_log_in(page, enrolled_admin):
    _user, secret = enrolled_admin
    totp = pyotp.TOTP(secret)
    step = current_step()
    near = {totp.at((step + drift) * STEP) for drift in range(-2, 3)}
    wrong = next(
        code for code in ("000000", "111111", "222222", "333333", "444444", "555555") if code not in near
    )
    password_step(page, "abe")
    page.wait_for_url("**/accounts/login/verify/")
    page.get_by_label("Six-digit code").fill(wrong)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text(WRONG_CODE_MESSAGE)
    expect(page).to_have_url(re.compile(r"/accounts/login/verify/$"))
    expect_logged_out(page)
    assert page.problems == []


def test_repeated_wrong_passwords_lock_the_login_with_a_message(page, team_admin, settings):
    settings.RAMPART_LOGIN_MAX_FAILURES = 3
    for _ in range(settings.RAMPART_LOGIN_MAX_FAILURES - 1):
        password_step(page, "abe", "not the password")
        expect(page.get_by_role("alert")).to_contain_text("That username and password did not match")
    password_step(page, "abe", "not the password")
    expect(page.get_by_role("alert")).to_have_text(LOCKED_MESSAGE)
    # Locked: the right password is refused as well, with the same message.
    password_step(page, "abe")
    expect(page.get_by_role("alert")).to_have_text(LOCKED_MESSAGE)
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect_logged_out(page)
    assert page.problems == []
