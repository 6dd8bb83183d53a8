"""Single sign-on through Django's test client against the fake provider, over real HTTP.

A login goes as a browser's would: Rampart's start page sends to the provider's /authorize (asked
here with urllib, as the browser would), whose redirect comes back to Rampart's callback, during
which Rampart itself calls the provider's token, JWKS and userinfo endpoints.
"""

import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.oidc.provider import CLIENT_ID, CLIENT_SECRET, FakeProvider

CALLBACK = "http://testserver/accounts/oidc/callback/"
LOGIN_PAGE = "http://testserver/accounts/login/"  # where the provider's logout sends the browser back
PROVIDER_NAME = "Keycloak"


@pytest.fixture
def idp(settings, db):
    """The fake provider, and Rampart configured to use it (no team roles, MFA off)."""
    with FakeProvider(redirect_uris=[CALLBACK]) as provider:
        provider.post_logout_redirect_uris = [LOGIN_PAGE]
        settings.RAMPART_OIDC_ISSUER = provider.issuer
        settings.RAMPART_OIDC_CLIENT_ID = CLIENT_ID
        settings.RAMPART_OIDC_CLIENT_SECRET = CLIENT_SECRET
        settings.RAMPART_OIDC_PROVIDER_NAME = PROVIDER_NAME
        settings.RAMPART_OIDC_TIMEOUT = 1
        provider.user = {
            "sub": "248289761001",
            "preferred_username": "alice",
            "email": "alice@example.com",
            "email_verified": True,
        }
        yield provider


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def at_provider(url: str) -> str:
    """What the browser does at the provider: the Location it is sent back to."""
    try:
        with urllib.request.build_opener(_NoRedirect).open(url, timeout=5) as response:
            status, location = response.status, None
    except urllib.error.HTTPError as answer:
        status, location = answer.code, answer.headers["Location"]
    assert status == 302, f"the provider answered {status}, not a redirect"
    return location


def start(client, next_url: str | None = None) -> str:
    """Press "Log in with …": the provider URL Rampart sends the browser to."""
    response = client.get("/accounts/oidc/login/", {"next": next_url} if next_url else {})
    assert response.status_code == 302, response.content
    return response["Location"]


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return f"{parts.path}?{parts.query}"


def sso_login(client, next_url: str | None = None, *, follow: bool = True):
    """A whole single sign-on; the last response (followed to the page it lands on, by default)."""
    back = at_provider(start(client, next_url))
    return client.get(callback_path(back), follow=follow)


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def messages_on(response) -> str:
    return " ".join(str(message) for message in response.context["messages"]) if response.context else ""
