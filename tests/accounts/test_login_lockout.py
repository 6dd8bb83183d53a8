import pytest
from django.test import Client

from accounts import mfa
from accounts.models import AuditEvent
from tests.accounts.conftest import START, enrol, is_logged_in, password_step
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def fail(client, username, times, **extra):
    for _ in range(times):
        password_step(client, username, "wrong password", **extra)


def test_five_failures_lock_the_account_even_against_the_right_password(client, viewer, clock):
    fail(client, "vera", 5)
    response = password_step(client, "vera", TEST_PASSWORD)
    assert response.status_code == 200
    assert "Too many failed attempts. Wait 15 minutes before you try again." in response.content.decode()
    assert not is_logged_in(client)


def test_four_failures_do_not_lock(client, viewer, clock):
    fail(client, "vera", 4)
    password_step(client, "vera", TEST_PASSWORD)
    assert is_logged_in(client)


def test_the_lock_lifts_after_the_lockout_period(client, viewer, clock):
    fail(client, "vera", 5)
    clock.advance(minutes=14, seconds=59)
    password_step(client, "vera", TEST_PASSWORD)
    assert not is_logged_in(client)
    clock.advance(seconds=2)
    password_step(client, "vera", TEST_PASSWORD)
    assert is_logged_in(client)


def test_failures_spread_beyond_the_window_do_not_add_up(client, viewer, clock):
    fail(client, "vera", 4)
    clock.advance(minutes=16)
    fail(client, "vera", 4)
    password_step(client, "vera", TEST_PASSWORD)
    assert is_logged_in(client)


def test_a_successful_login_resets_the_count(client, viewer, clock):
    fail(client, "vera", 4)
    password_step(client, "vera", TEST_PASSWORD)
    assert is_logged_in(client)
    client.post("/accounts/logout/")
    fail(client, "vera", 4)
    password_step(client, "vera", TEST_PASSWORD)
    assert is_logged_in(client)


def test_an_unknown_username_is_locked_exactly_like_a_real_one(client, viewer, clock):
    fail(client, "nobody", 4)
    fourth_unknown = password_step(client, "nobody", "wrong password")
    fail(client, "vera", 4)
    fourth_real = password_step(client, "vera", "wrong password")
    assert _error(fourth_unknown) == _error(fourth_real)
    assert "Too many failed attempts" in _error(fourth_real)


def test_the_username_is_counted_whatever_its_case(client, viewer, clock):
    fail(client, "VERA", 3)
    fail(client, "Vera", 2)
    password_step(client, "vera", TEST_PASSWORD)
    assert not is_logged_in(client)


def test_wrong_second_factor_codes_count_towards_the_lock(client, viewer, clock):
    enrol(viewer, START)
    clock.advance(minutes=1)
    password_step(client, "vera")
    for _ in range(4):
        assert client.post("/accounts/login/verify/", {"code": "000000"}).status_code == 200
    response = client.post("/accounts/login/verify/", {"code": "000000"})
    assert response.url == "/accounts/login/"
    assert not is_logged_in(client)
    assert "Too many failed attempts" in _error(password_step(client, "vera"))


def test_locking_is_audited_and_logged_without_the_password(client, viewer, clock, caplog):
    fail(client, "vera", 5)
    locked = AuditEvent.objects.get(action="login.locked")
    assert locked.details == {"scope": "username", "subject": "vera"}
    assert AuditEvent.objects.filter(action="login.failed").count() == 5
    assert "wrong password" not in caplog.text
    assert "login failed for username='vera'" in caplog.text
    assert "login locked for user 'vera'" in caplog.text


def _error(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def test_wrong_passwords_when_confirming_a_change_count_too(client, viewer, clock):
    enrol(viewer, START)
    client.force_login(viewer)
    for _ in range(5):
        client.post("/accounts/security/mfa/disable/", {"disable-password": "guess"})
    # Now even the right password is refused, here and at the login.
    response = client.post(
        "/accounts/security/mfa/disable/", {"disable-password": TEST_PASSWORD}, follow=True
    )
    assert "Too many failed attempts" in response.content.decode()
    assert mfa.is_enrolled(viewer)
    assert AuditEvent.objects.filter(action="reauth.failed").count() == 5
    assert "Too many failed attempts" in _error(password_step(Client(), "vera"))


def test_wrong_old_passwords_on_the_change_page_count_too(client, viewer, clock):
    client.force_login(viewer)
    new = "a-much-longer-passphrase-42"
    for _ in range(5):
        client.post(
            "/accounts/password/", {"old_password": "guess", "new_password1": new, "new_password2": new}
        )
    response = client.post(
        "/accounts/password/",
        {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
    )
    assert "Too many failed attempts" in response.content.decode()
    viewer.refresh_from_db()
    assert viewer.check_password(TEST_PASSWORD)


def test_a_password_proven_on_the_change_page_clears_the_earlier_slips(client, viewer, clock):
    """Four wrong tries, then the right one: a later single slip at the login must not lock."""
    client.force_login(viewer)
    new = "a-much-longer-passphrase-42"
    for _ in range(4):
        client.post(
            "/accounts/password/", {"old_password": "guess", "new_password1": new, "new_password2": new}
        )
    client.post(
        "/accounts/password/", {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new}
    )
    viewer.refresh_from_db()
    assert viewer.check_password(new)
    assert "Too many failed attempts" not in _error(password_step(Client(), viewer.username, "wrong"))
    response = password_step(Client(), viewer.username, new)
    assert response.status_code == 302
