"""The Rampart user behind an identity: found by issuer and subject, made on first login.

Never found by email: an address can be reassigned, or claimed unverified at the provider, and
matching on it would hand one person's Rampart account to another. An administrator links an
existing account to its identity on the admin site (OIDC identities).
"""

import logging
import re
import unicodedata

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from accounts import audit, clock
from accounts.models import OidcIdentity
from accounts.oidc import errors

logger = logging.getLogger("rampart.auth")

USERNAME_MAX = 150  # Django's User.username
_NOT_IN_USERNAME = re.compile(r"[^\w.@+-]+")  # Django's UnicodeUsernameValidator allows \w . @ + -


def user_for(claims: dict, *, issuer: str):
    """The active user of this identity, made if allowed; raises SsoFailed when not allowed."""
    subject = claims["sub"]
    email = verified_email(claims)
    _check_domain(email, subject)
    identity = OidcIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    if identity is None:
        if not settings.RAMPART_OIDC_CREATE_USERS:
            raise errors.not_allowed("no_account", f"no Rampart account is linked to subject {subject!r}")
        identity = _create(claims, issuer=issuer, email=email)
    user = identity.user
    if not user.is_active:
        raise errors.deactivated(f"user {user.get_username()!r} is deactivated")
    _refresh(identity, email)
    return user


def verified_email(claims: dict) -> str:
    """The email address, only if the provider says it verified it ('' otherwise)."""
    email = claims.get("email")
    verified = claims.get("email_verified")
    # Some providers (Amazon Cognito) send the boolean as a string.
    if verified is not True and str(verified).lower() != "true":
        return ""
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        return ""
    return email.strip()


def username_from(claims: dict) -> str:
    """A free username after Django's rules, from preferred_username or the email's local part."""
    wanted = claims.get("preferred_username")
    if not isinstance(wanted, str) or not wanted.strip():
        email = claims.get("email")
        wanted = email.split("@", 1)[0] if isinstance(email, str) else ""
    base = _NOT_IN_USERNAME.sub("-", unicodedata.normalize("NFKC", wanted)).strip(".-+@")
    base = base[: USERNAME_MAX - 8] or "user"
    users = get_user_model().objects
    candidate, number = base, 1
    # Free whatever the case: the Teams page finds "Alice" as "alice" when only one matches.
    while users.filter(username__iexact=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _check_domain(email: str, subject: str) -> None:
    allowed = settings.RAMPART_OIDC_ALLOWED_DOMAINS
    if not allowed:
        return
    domain = email.rpartition("@")[2].lower()
    if not email or domain not in allowed:
        raise errors.not_allowed(
            "domain_not_allowed",
            f"subject {subject!r}: verified email domain {domain or '(none)'!r} is not allowed",
        )


def _create(claims: dict, *, issuer: str, email: str) -> OidcIdentity:
    for _attempt in range(3):
        try:
            with transaction.atomic():
                user = get_user_model()(username=username_from(claims), email=email)
                user.set_unusable_password()  # the provider is how they log in
                user.save()
                identity = OidcIdentity.objects.create(user=user, issuer=issuer, subject=claims["sub"])
                audit.record("user.created", target=user, source="sso", issuer=issuer, subject=claims["sub"])
            logger.info("OIDC: created user %r for subject %r", user.get_username(), claims["sub"])
            return identity
        except IntegrityError:
            # The same person logging in twice at once, or a username taken meanwhile: look again.
            existing = OidcIdentity.objects.filter(issuer=issuer, subject=claims["sub"]).first()
            if existing is not None:
                return existing
    raise errors.not_allowed("username_conflict", f"no free username for subject {claims['sub']!r}")


def _refresh(identity: OidcIdentity, email: str) -> None:
    user = identity.user
    if email and email != user.email:
        user.email = email
        user.save(update_fields=["email"])
        audit.record("user.changed", target=user, fields=["email"], source="sso")
    identity.last_login_at = clock.now()
    identity.save(update_fields=["last_login_at"])
