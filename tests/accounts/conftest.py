"""Helpers for the accounts tests: a clock the tests move, and the login steps as a browser does them."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from accounts import mfa
from accounts.models import AuditEvent, TotpDevice
from tests.factories import TEST_PASSWORD

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    """accounts.clock.now(), stopped at START; ``clock.advance(minutes=15)`` moves it."""
    fake = Clock(START)
    monkeypatch.setattr("accounts.clock.now", fake)
    return fake


@pytest.fixture
def mfa_policy(settings):
    def set_policy(value):
        settings.RAMPART_MFA_REQUIRED = value

    return set_policy


def totp_code(user, at) -> str:
    device = TotpDevice.objects.get(user=user)
    return pyotp.TOTP(mfa.secret_of(device)).at(at)


def enrol(user, at) -> list[str]:
    """Turn MFA on for a user as the enrolment page would; returns the recovery codes."""
    device = mfa.begin_enrolment(user)
    return mfa.confirm_enrolment(user, pyotp.TOTP(mfa.secret_of(device)).at(at), now=at)


def password_step(client, username, password=TEST_PASSWORD, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def sign_in(client, user) -> None:
    """force_login, then forget its login.succeeded row so a test sees only the events it causes."""
    client.force_login(user)
    AuditEvent.objects.filter(action="login.succeeded", actor=user).delete()
