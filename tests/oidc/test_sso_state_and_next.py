"""The callback only completes a login this browser started here (state, once), and lands only on
a page of Rampart's own (no open redirect)."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from accounts.models import AuditEvent
from tests.oidc.conftest import at_provider, callback_path, is_logged_in, sso_login, start

STALE = "That login was interrupted or was not started here. Please log in again."


def test_a_tampered_state_is_refused(client, idp):
    back = urlsplit(at_provider(start(client)))
    query = parse_qs(back.query)
    state = query["state"][0]
    query["state"] = [("a" if state[0] != "a" else "b") + state[1:]]  # one character changed
    response = client.get(f"{back.path}?{urlencode(query, doseq=True)}", follow=True)
    assert STALE in response.content.decode()
    assert not is_logged_in(client)
    assert idp.token_requests == []  # the code was never even exchanged
    assert AuditEvent.objects.get(action="login.failed").details["reason"] == "bad_state"


def test_a_callback_in_another_browser_is_refused(client, idp):
    back = at_provider(start(client))
    attacker = Client()  # login CSRF: the victim's browser fed the attacker's code and state
    response = attacker.get(callback_path(back), follow=True)
    assert STALE in response.content.decode()
    assert "_auth_user_id" not in attacker.session


def test_a_callback_works_once(client, idp):
    back = callback_path(at_provider(start(client)))
    client.get(back)
    assert is_logged_in(client)
    client.logout()
    response = client.get(back, follow=True)
    assert STALE in response.content.decode()
    assert not is_logged_in(client)


def test_a_login_left_at_the_provider_too_long_expires(client, idp, monkeypatch):
    back = callback_path(at_provider(start(client)))
    later = datetime.now(UTC) + timedelta(minutes=11)
    monkeypatch.setattr("accounts.clock.now", lambda: later)
    response = client.get(back, follow=True)
    assert STALE in response.content.decode()
    assert not is_logged_in(client)


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com", "javascript:alert(1)"],
)
def test_a_next_url_elsewhere_lands_on_the_overview(client, idp, next_url):
    response = sso_login(client, next_url, follow=False)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert is_logged_in(client)


def test_a_local_next_url_is_kept(client, idp):
    response = sso_login(client, "/findings/?severity=critical", follow=False)
    assert response["Location"] == "/findings/?severity=critical"


def test_the_browser_is_only_ever_sent_to_the_configured_provider(client, idp):
    assert start(client, "https://evil.example.com/").startswith(f"{idp.issuer}/authorize?")
