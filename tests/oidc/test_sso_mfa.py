"""Rampart's second factor after a single sign-on: the provider's counts only when its ID token says
it checked one (amr) or RAMPART_OIDC_TRUST_IDP_MFA is set; otherwise Rampart's own rules apply, as
after a password."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from accounts.models import AuditEvent, OidcIdentity
from tests.accounts.conftest import enrol, totp_code
from tests.factories import make_user
from tests.oidc.conftest import is_logged_in, sso_login


@pytest.fixture
def mfa_for_all(settings):
    settings.RAMPART_MFA_REQUIRED = "all"


@pytest.mark.parametrize("amr", [["pwd", "mfa"], ["otp"], ["hwk", "user"], ["pwd", "swk"]])
def test_the_providers_second_factor_counts_when_the_token_says_so(client, idp, mfa_for_all, amr):
    idp.user = {**idp.user, "amr": amr}
    response = sso_login(client, "/clusters/")
    assert response.redirect_chain[-1][0] == "/clusters/"
    assert is_logged_in(client)
    login = AuditEvent.objects.get(action="login.succeeded")
    assert login.details == {"second_factor": "identity_provider", "method": "oidc"}
    # And for the whole session: the MFA middleware does not send them to enrolment.
    assert client.get("/findings/").status_code == 200


def test_without_amr_a_user_who_must_use_a_second_factor_sets_one_up_first(client, idp, mfa_for_all):
    idp.user = {**idp.user, "amr": ["pwd"]}
    response = sso_login(client)
    assert response.redirect_chain[-1][0] == "/accounts/login/enrol/"
    assert not is_logged_in(client)


def test_without_amr_an_enrolled_user_enters_their_code(client, idp):
    user = make_user(username="alice")
    OidcIdentity.objects.create(user=user, issuer=idp.issuer, subject=idp.user["sub"])
    now = datetime.now(UTC)  # the real time: the fake provider's tokens are issued now
    enrol(user, now)  # the confirming code claims this 30-second step; the next one is within drift
    response = sso_login(client, "/clusters/", follow=False)
    assert response["Location"] == "/accounts/login/verify/"
    assert not is_logged_in(client)
    response = client.post("/accounts/login/verify/", {"code": totp_code(user, now + timedelta(seconds=30))})
    assert response["Location"] == "/clusters/"
    assert int(client.session["_auth_user_id"]) == user.pk
    login = AuditEvent.objects.get(action="login.succeeded")
    assert login.details == {"second_factor": "totp", "method": "oidc"}


def test_trusting_the_provider_counts_its_login_as_a_second_factor(client, idp, mfa_for_all, settings):
    settings.RAMPART_OIDC_TRUST_IDP_MFA = True
    sso_login(client)
    assert is_logged_in(client)
    assert client.get("/findings/").status_code == 200


def test_without_a_policy_a_login_without_amr_needs_nothing_more(client, idp):
    sso_login(client)
    assert is_logged_in(client)
    assert AuditEvent.objects.get(action="login.succeeded").details["second_factor"] == "none"
    assert get_user_model().objects.count() == 1
