"""Single sign-on in a real browser: "Log in with …", the provider's own login page, and back on
the overview, logged in (the fake provider of tests/oidc, over real HTTP)."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import OidcIdentity
from tests.oidc.provider import CLIENT_ID, CLIENT_SECRET, FakeProvider

pytestmark = pytest.mark.browser

HOME = re.compile(r"^https?://[^/]+/$")


@pytest.fixture
def idp(live_server, settings, transactional_db):
    callback = f"{live_server.url}/accounts/oidc/callback/"
    with FakeProvider(redirect_uris=[callback], interactive=True) as provider:
        provider.user = {
            "sub": "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
            "preferred_username": "alice",
            "email": "alice@example.com",
            "email_verified": True,
        }
        settings.RAMPART_OIDC_ISSUER = provider.issuer
        settings.RAMPART_OIDC_CLIENT_ID = CLIENT_ID
        settings.RAMPART_OIDC_CLIENT_SECRET = CLIENT_SECRET
        settings.RAMPART_OIDC_PROVIDER_NAME = "Keycloak"
        yield provider


def test_a_person_logs_in_with_the_provider_and_lands_on_the_overview(page, idp):
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Log in with Keycloak").click()
    # The provider's page, on its own origin.
    expect(page.get_by_role("heading", name="Fake provider")).to_be_visible()
    assert page.url.startswith(f"{idp.issuer}/authorize?")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(HOME)
    expect(page.get_by_role("link", name="alice")).to_be_visible()
    assert OidcIdentity.objects.get().user.username == "alice"
    assert page.problems == []
