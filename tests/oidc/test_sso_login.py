"""A single sign-on logs in the provider's person as a Rampart user: made at the first login, found
again by issuer and subject, never by email."""

import hashlib
from urllib.parse import parse_qs, urlsplit

from django.contrib.auth import get_user_model

from accounts.models import AuditEvent, OidcIdentity
from tests.factories import make_user
from tests.oidc.conftest import PROVIDER_NAME, is_logged_in, sso_login, start
from tests.oidc.keys import b64

User = get_user_model()


def test_the_login_page_offers_the_provider_when_configured(client, idp):
    html = client.get("/accounts/login/?next=/clusters/").content.decode()
    assert f"Log in with {PROVIDER_NAME}</a>" in html
    assert 'href="/accounts/oidc/login/?next=/clusters/"' in html
    assert 'name="password"' in html  # the password stays available


def test_the_login_page_has_no_provider_button_when_not_configured(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert "Log in with" not in html
    assert client.get("/accounts/oidc/login/").status_code == 404


def test_the_first_login_makes_the_user_and_logs_them_in(client, idp):
    response = sso_login(client, "/clusters/")
    assert response.redirect_chain[-1][0] == "/clusters/"
    assert is_logged_in(client)
    user = User.objects.get(username="alice")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert user.email == "alice@example.com"
    assert not user.has_usable_password()
    identity = OidcIdentity.objects.get(user=user)
    assert (identity.issuer, identity.subject) == (idp.issuer, "248289761001")
    created = AuditEvent.objects.get(action="user.created")
    assert created.details["source"] == "sso"
    login = AuditEvent.objects.get(action="login.succeeded")
    assert login.details == {"second_factor": "none", "method": "oidc"}
    assert login.actor == user


def test_the_request_carries_state_nonce_and_a_pkce_s256_challenge(client, idp):
    query = parse_qs(urlsplit(start(client)).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["rampart"]
    assert query["scope"] == ["openid email profile"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 32
    assert len(query["nonce"][0]) >= 32
    assert query["state"] != query["nonce"]
    assert query["redirect_uri"] == ["http://testserver/accounts/oidc/callback/"]


def test_the_code_is_exchanged_with_the_client_secret_and_the_pkce_verifier(client, idp):
    sso_login(client)
    (request,) = idp.token_requests
    assert request["headers"]["authorization"].startswith("Basic ")  # client_secret_basic
    assert "client_secret" not in request["form"]
    challenge = idp.authorizations[0]["code_challenge"]
    assert b64(hashlib.sha256(request["form"]["code_verifier"].encode()).digest()) == challenge
    assert is_logged_in(client)


def test_the_session_key_changes_at_login(client, idp):
    client.get("/accounts/login/")
    start(client)
    before = client.session.session_key
    sso_login(client)
    assert is_logged_in(client)
    assert client.session.session_key != before


def test_a_second_login_finds_the_same_user_by_subject_though_the_email_changed(client, idp):
    sso_login(client)
    client.logout()
    idp.user = {**idp.user, "email": "alice.new@example.com", "preferred_username": "alice.renamed"}
    sso_login(client)
    assert is_logged_in(client)
    assert User.objects.count() == 1
    user = User.objects.get()
    assert user.username == "alice"  # the username stays
    assert user.email == "alice.new@example.com"


def test_an_account_with_the_same_email_is_not_taken_over(client, idp):
    existing = make_user(username="alice", email="alice@example.com")
    sso_login(client)
    assert is_logged_in(client)
    assert int(client.session["_auth_user_id"]) != existing.pk
    newcomer = OidcIdentity.objects.get().user
    assert newcomer.username == "alice-2"  # a free username, not the existing account
    assert newcomer.pk != existing.pk


def test_an_unverified_email_is_not_stored(client, idp):
    idp.user = {**idp.user, "email_verified": False}
    sso_login(client)
    assert User.objects.get(username="alice").email == ""


def test_the_username_follows_djangos_rules_and_is_free(client, idp):
    make_user(username="Jo-Ann.Smith")
    idp.user = {"sub": "s-2", "preferred_username": "jo ann smith", "email": "x@example.com"}
    idp.user["preferred_username"] = "Jo/Ann Smith"
    sso_login(client)
    assert OidcIdentity.objects.get().user.username == "Jo-Ann-Smith"
    client.logout()
    idp.user = {"sub": "s-3", "preferred_username": "jo-ann-smith"}
    sso_login(client)
    assert OidcIdentity.objects.get(subject="s-3").user.username == "jo-ann-smith-2"


def test_without_preferred_username_the_email_local_part_is_used(client, idp):
    idp.user = {"sub": "s-4", "email": "bob@example.com", "email_verified": True}
    sso_login(client)
    assert OidcIdentity.objects.get().user.username == "bob"


def test_with_user_creation_off_an_unknown_identity_is_refused(client, idp, settings):
    settings.RAMPART_OIDC_CREATE_USERS = False
    response = sso_login(client)
    assert not is_logged_in(client)
    assert "Your account is not allowed to log in to Rampart" in response.content.decode()
    assert not User.objects.exists()
    assert AuditEvent.objects.get(action="login.failed").details["reason"] == "no_account"


def test_with_user_creation_off_a_linked_account_logs_in(client, idp, settings):
    settings.RAMPART_OIDC_CREATE_USERS = False
    user = make_user(username="alice.smith")
    OidcIdentity.objects.create(user=user, issuer=idp.issuer, subject=idp.user["sub"])
    sso_login(client)
    assert int(client.session["_auth_user_id"]) == user.pk


def test_an_es256_signed_token_is_accepted(client, idp):
    idp.alg = "ES256"
    sso_login(client)
    assert is_logged_in(client)


def test_a_key_the_provider_rotated_in_is_fetched(client, idp):
    sso_login(client)  # the JWKS is now cached
    client.logout()
    idp.kid = "key-2"  # the same key published under a new id, as after a rotation
    sso_login(client)
    assert is_logged_in(client)
