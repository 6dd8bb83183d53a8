"""RAMPART_OIDC_ONLY: the password form is gone and its POST refused, except for superusers, so that
nobody is locked out when the provider is down or misconfigured."""

import pytest

from accounts.models import AuditEvent
from tests.accounts.conftest import password_step
from tests.factories import make_user
from tests.oidc.conftest import PROVIDER_NAME, is_logged_in

REFUSED = f"did not match an administrator&#x27;s. Everyone else logs in with {PROVIDER_NAME}."


@pytest.fixture
def sso_only(idp, settings):
    settings.RAMPART_OIDC_ONLY = True


def test_the_login_page_shows_only_the_provider(client, sso_only):
    html = client.get("/accounts/login/").content.decode()
    assert f"Log in with {PROVIDER_NAME}" in html
    assert 'name="password"' not in html


def test_a_users_right_password_is_refused_like_a_wrong_one(client, sso_only):
    make_user(username="vera")
    right = password_step(client, "vera")
    assert REFUSED in right.content.decode()
    assert not is_logged_in(client)
    wrong = password_step(client, "vera", "not the password")
    assert REFUSED in wrong.content.decode()
    reasons = list(AuditEvent.objects.filter(action="login.failed").values_list("details__reason", flat=True))
    assert sorted(reasons) == ["bad_credentials", "password_login_off"]


def test_a_superuser_may_still_log_in_with_a_password(client, sso_only):
    make_user(username="root", is_superuser=True, is_staff=True)
    html = client.get("/accounts/login/?password=1").content.decode()
    assert 'name="password"' in html
    response = password_step(client, "root")
    assert response.status_code == 302
    assert is_logged_in(client)


def test_without_sso_only_everyone_may_use_a_password(client, idp):
    make_user(username="vera")
    password_step(client, "vera")
    assert is_logged_in(client)
