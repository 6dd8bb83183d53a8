import pytest

from tests.accounts.conftest import password_step
from tests.posture.test_settings import manage, production_env

pytestmark = pytest.mark.django_db


def test_production_settings_make_session_and_csrf_cookies_secure_httponly_and_samesite(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY, s.SESSION_COOKIE_AGE, s.SESSION_SAVE_EVERY_REQUEST)"
    )
    result = manage("shell", "-c", code, env=production_env(tmp_path))
    assert result.stdout.strip().splitlines()[-1] == "True True Lax True True 28800 True", result.stderr


def test_the_idle_timeout_comes_from_the_environment(tmp_path):
    env = {**production_env(tmp_path), "SESSION_IDLE_TIMEOUT_SECONDS": "900"}
    result = manage(
        "shell", "-c", "from django.conf import settings as s; print(s.SESSION_COOKIE_AGE)", env=env
    )
    assert result.stdout.strip().splitlines()[-1] == "900"


def test_the_session_cookie_is_sent_with_its_flags(client, viewer, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = password_step(client, "vera")
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE


def test_every_request_renews_the_session_so_the_age_is_an_idle_timeout(client, viewer):
    password_step(client, "vera")
    response = client.get("/accounts/security/")
    assert "sessionid" in response.cookies  # re-sent, with a fresh expiry, on each request
