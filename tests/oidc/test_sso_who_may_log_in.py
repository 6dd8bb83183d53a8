"""Who may log in by single sign-on: the allowed email domains, and never a deactivated account."""

from django.contrib.auth import get_user_model

from accounts.models import AuditEvent, OidcIdentity
from tests.factories import make_user
from tests.oidc.conftest import is_logged_in, sso_login

NOT_ALLOWED = "Your account is not allowed to log in to Rampart. Ask your Rampart administrator for access."


def test_a_verified_email_in_an_allowed_domain_logs_in(client, idp, settings):
    settings.RAMPART_OIDC_ALLOWED_DOMAINS = ["example.org", "example.com"]
    sso_login(client)
    assert is_logged_in(client)


def test_an_email_in_another_domain_is_refused(client, idp, settings):
    settings.RAMPART_OIDC_ALLOWED_DOMAINS = ["example.org"]
    response = sso_login(client)
    assert NOT_ALLOWED in response.content.decode()
    assert not is_logged_in(client)
    assert not get_user_model().objects.exists()
    assert AuditEvent.objects.get(action="login.failed").details["reason"] == "domain_not_allowed"


def test_an_allowed_domain_counts_only_when_the_provider_verified_the_email(client, idp, settings):
    settings.RAMPART_OIDC_ALLOWED_DOMAINS = ["example.com"]
    idp.user = {**idp.user, "email_verified": False}
    response = sso_login(client)
    assert NOT_ALLOWED in response.content.decode()
    assert not is_logged_in(client)


def test_a_look_alike_domain_is_refused(client, idp, settings):
    settings.RAMPART_OIDC_ALLOWED_DOMAINS = ["example.com"]
    idp.user = {**idp.user, "email": "mallory@evil-example.com"}
    sso_login(client)
    assert not is_logged_in(client)


def test_a_deactivated_user_cannot_log_in_by_single_sign_on(client, idp):
    user = make_user(username="alice", is_active=False)
    OidcIdentity.objects.create(user=user, issuer=idp.issuer, subject=idp.user["sub"])
    response = sso_login(client)
    assert "Your Rampart account is deactivated." in response.content.decode()
    assert not is_logged_in(client)
    assert get_user_model().objects.count() == 1  # no second account made instead
    assert AuditEvent.objects.get(action="login.failed").details["reason"] == "user_inactive"
