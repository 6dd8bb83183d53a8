"""Every way a single sign-on can fail ends on the login page with one clear line, nobody logged in,
an audit row and a log line with the details; never a stack trace, never a token in the logs."""

import logging

import pytest
from django.contrib.auth import get_user_model

from accounts.models import AuditEvent
from tests.oidc.conftest import PROVIDER_NAME, at_provider, callback_path, is_logged_in, sso_login, start

DOWN = f"{PROVIDER_NAME} did not answer in time, so you are not logged in. Try again in a moment."
BAD_TOKEN = f"The answer from {PROVIDER_NAME} could not be verified, so you are not logged in."
MISCONFIGURED = f"Logging in with {PROVIDER_NAME} is not set up correctly. Tell your Rampart administrator."


def assert_refused(client, response, message: str, reason: str) -> None:
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    html = response.content.decode()
    assert message in html
    assert "Traceback" not in html
    assert not is_logged_in(client)
    assert not get_user_model().objects.exists()
    failure = AuditEvent.objects.get(action="login.failed")
    assert failure.details["reason"] == reason
    assert failure.details["method"] == "oidc"


@pytest.mark.parametrize(
    ("misbehaviour", "detail"),
    [
        ({"token_issuer": "https://impostor.example.com"}, "issuer"),
        ({"audience": "another-client"}, "audience"),
        ({"expired": True}, "expired"),
        ({"signing_key": "other"}, "signature"),
        ({"nonce": "a-nonce-this-login-never-sent"}, "nonce"),
        ({"alg": "none"}, "algorithm 'none'"),
        ({"alg": "HS256"}, "algorithm 'HS256'"),  # signed with the client secret: refused
    ],
    ids=["wrong-issuer", "wrong-audience", "expired", "bad-signature", "nonce-mismatch", "alg-none", "hs256"],
)
def test_a_token_that_does_not_verify_logs_nobody_in(client, idp, caplog, misbehaviour, detail):
    for name, value in misbehaviour.items():
        setattr(idp, name, value)
    with caplog.at_level(logging.INFO):
        response = sso_login(client)
    assert_refused(client, response, BAD_TOKEN, "bad_token")
    assert detail in caplog.text
    (id_token,) = idp.id_tokens
    assert id_token not in caplog.text
    assert id_token.split(".")[1] not in caplog.text  # not even its claims part


def test_a_discovery_document_naming_another_issuer_is_not_used(client, idp):
    idp.discovery_issuer = "https://impostor.example.com"
    response = client.get("/accounts/oidc/login/", follow=True)
    assert_refused(client, response, MISCONFIGURED, "misconfigured")
    assert idp.authorizations == []  # the browser was never sent there


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/token", "/jwks"])
def test_a_provider_that_answers_500_is_said_to_be_unavailable(client, idp, path):
    if path == "/.well-known/openid-configuration":
        idp.failures[path] = 500
        response = client.get("/accounts/oidc/login/", follow=True)
    else:
        back = at_provider(start(client))
        idp.failures[path] = 500
        response = client.get(callback_path(back), follow=True)
    assert_refused(client, response, DOWN, "provider_unavailable")


def test_a_slow_provider_is_given_up_on_after_the_timeout(client, idp, settings):
    settings.RAMPART_OIDC_TIMEOUT = 1
    back = at_provider(start(client))
    idp.delays["/token"] = 3
    response = client.get(callback_path(back), follow=True)
    assert_refused(client, response, DOWN, "provider_unavailable")


def test_a_provider_that_is_down_is_said_to_be_unavailable(client, idp):
    idp.stop()
    response = client.get("/accounts/oidc/login/", follow=True)
    assert_refused(client, response, DOWN, "provider_unavailable")


def test_a_wrong_client_secret_is_a_configuration_problem(client, idp, settings):
    settings.RAMPART_OIDC_CLIENT_SECRET = "not-the-secret"
    response = sso_login(client)
    assert_refused(client, response, MISCONFIGURED, "misconfigured")


def test_a_person_who_cancels_at_the_provider_is_told_so(client, idp):
    idp.deny = True
    response = sso_login(client)
    assert_refused(
        client, response, f"{PROVIDER_NAME} did not log you in. Please try again.", "provider_refused"
    )
