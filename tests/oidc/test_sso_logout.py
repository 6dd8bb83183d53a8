"""Logging out after a single sign-on ends the provider's session too (RP-initiated logout), so that
the next person at the same browser is not let in as the last one by "Log in with …"."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache

from accounts.oidc import discovery
from tests.factories import TEST_PASSWORD, make_user
from tests.oidc.conftest import LOGIN_PAGE, at_provider, is_logged_in, sso_login


def _log_out(client):
    return client.post("/accounts/logout/")


def test_logging_out_after_sso_goes_by_the_providers_logout_and_back_to_the_login_page(client, idp):
    sso_login(client)
    assert is_logged_in(client)

    response = _log_out(client)

    assert not is_logged_in(client)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{idp.issuer}/logout"
    assert parse_qs(location.query) == {"client_id": ["rampart"], "post_logout_redirect_uri": [LOGIN_PAGE]}
    assert at_provider(response["Location"]) == LOGIN_PAGE  # the provider ended its session and sent us back
    assert len(idp.logouts) == 1
    assert "You are logged out." in client.get("/accounts/login/").text


def test_a_password_login_logs_out_locally(client, idp, team):
    make_user(team, username="pat")
    client.post("/accounts/login/", {"username": "pat", "password": TEST_PASSWORD})
    assert is_logged_in(client)

    response = _log_out(client)

    assert response["Location"] == "/accounts/login/"
    assert idp.logouts == []


@pytest.mark.parametrize("why", ["switched off", "not offered", "provider down"])
def test_otherwise_the_logout_stays_local_and_still_logs_out(client, idp, settings, why):
    if why == "not offered":
        idp.offers_logout = False
    sso_login(client)
    if why == "switched off":
        settings.RAMPART_OIDC_LOGOUT_AT_PROVIDER = False
    if why == "provider down":
        cache.delete(discovery._cache_key("discovery", idp.issuer))  # asked again at logout, and fails
        idp.failures["/.well-known/openid-configuration"] = 500

    response = _log_out(client)

    assert not is_logged_in(client)
    assert response["Location"] == "/accounts/login/"
    assert idp.logouts == []
