from datetime import timedelta

import pytest

from accounts import mfa
from tests.accounts.conftest import START, enrol, is_logged_in, password_step, totp_code

pytestmark = pytest.mark.django_db


def test_a_code_that_was_just_used_is_refused_the_second_time(client, viewer, clock):
    enrol(viewer, START)
    clock.advance(seconds=60)
    code = totp_code(viewer, clock.now)
    password_step(client, "vera")
    client.post("/accounts/login/verify/", {"code": code})
    assert is_logged_in(client)

    client.post("/accounts/logout/")
    clock.advance(seconds=5)  # same 30-second step
    password_step(client, "vera")
    response = client.post("/accounts/login/verify/", {"code": code})
    assert response.status_code == 200
    assert not is_logged_in(client)
    assert "has just been used. Wait for your authenticator&#x27;s next code" in response.content.decode()


def test_the_code_that_confirmed_enrolment_cannot_be_replayed_to_log_in(client, viewer, clock):
    enrol(viewer, START)
    password_step(client, "vera")
    response = client.post("/accounts/login/verify/", {"code": totp_code(viewer, START)})
    assert response.status_code == 200
    assert not is_logged_in(client)


def test_a_code_from_an_older_step_than_the_last_accepted_is_refused(viewer, clock):
    enrol(viewer, START)
    at = START + timedelta(minutes=5)
    assert mfa.verify_totp(viewer, totp_code(viewer, at), now=at)
    # One step earlier is inside the drift window, but older than the step just used.
    assert not mfa.verify_totp(viewer, totp_code(viewer, at - timedelta(seconds=30)), now=at)


def test_the_next_step_s_code_works_after_a_replay_was_refused(viewer, clock):
    enrol(viewer, START)
    at = START + timedelta(minutes=10)
    assert mfa.verify_totp(viewer, totp_code(viewer, at), now=at)
    assert not mfa.verify_totp(viewer, totp_code(viewer, at), now=at)
    at += timedelta(seconds=30)
    assert mfa.verify_totp(viewer, totp_code(viewer, at), now=at)
