"""Account actions: the two login steps, passwords and API tokens.

Functions take users and plain values (never requests or forms), check what
must be checked, change state and write the audit log. The views own the
session: which step of the login a browser is at, and the final login().
"""

import logging

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction

from accounts import audit, clock, mfa, throttle
from accounts.models import ApiToken

logger = logging.getLogger("rampart.auth")

# One message for an unknown user, a wrong password and an inactive account,
# so the form never tells which usernames exist.
INVALID_CREDENTIALS = "That username and password did not match. Check them and try again."
# A lock is kept per username typed, whether or not it exists, so this message
# reveals nothing either.
INVALID_CODE = "That code did not work. Check your authenticator and try again."
INVALID_RECOVERY_CODE = "That recovery code did not work: each one works once. Check it, or use another."
USED_CODE = (
    "That code has just been used. Wait for your authenticator's next code (at most 30 seconds) and enter it."
)
REAUTH_REFUSED = "That is not your password."


def superusers_only_message() -> str:
    """With RAMPART_OIDC_ONLY: for a wrong password and for a right one of a non-superuser alike."""
    return (
        "That username and password did not match an administrator's. "
        f"Everyone else logs in with {settings.RAMPART_OIDC_PROVIDER_NAME}."
    )


def locked_message() -> str:
    """The lock lasts the configured time from the last failure; saying how long saves guesses."""
    minutes = -(-settings.RAMPART_LOGIN_LOCKOUT_SECONDS // 60)
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"Too many failed attempts. Wait {wait} before you try again."


class LoginRefused(Exception):
    def __init__(self, message: str, *, locked: bool = False):
        super().__init__(message)
        self.message = message
        self.locked = locked


def check_password(username: str, password: str, *, ip: str | None, now=None, superusers_only: bool = False):
    """The first login step: returns the user, or raises LoginRefused.

    A locked username or address is refused before the password is checked,
    so a correct guess during a lockout is no signal. ``superusers_only``
    (single sign-on only, RAMPART_OIDC_ONLY): anyone else is refused with the
    same message as a wrong password, and counted as a failure, so the form
    does not tell whose password was right.
    """
    now = now or clock.now()
    username = username[:150]
    if throttle.is_locked(username, ip, now=now):
        audit.record("login.failed", ip=ip, at=now, username=username, reason="locked")
        logger.warning("login refused (locked) for username=%r from %s", username, ip or "unknown address")
        raise LoginRefused(locked_message(), locked=True)
    # Django's user_login_failed signal writes the audit row and the log line
    # for a failure here (accounts.audit); the password never reaches either.
    user = authenticate(None, username=username, password=password)
    if user is not None and superusers_only and not user.is_superuser:
        audit.record("login.failed", ip=ip, at=now, username=username, reason="password_login_off")
        logger.warning("password login refused (single sign-on only) for username=%r", username)
        user = None
    if user is None:
        if _count_failure(username, ip, now):
            raise LoginRefused(locked_message(), locked=True)
        raise LoginRefused(superusers_only_message() if superusers_only else INVALID_CREDENTIALS)
    return user


def check_second_factor(user, *, code: str = "", recovery_code: str = "", ip: str | None, now=None) -> str:
    """The second login step: returns "totp" or "recovery_code", or raises LoginRefused.

    Failures count towards the same lockout as wrong passwords: five guesses
    at a six-digit code are no threat.
    """
    now = now or clock.now()
    username = user.get_username()
    if throttle.is_locked(username, ip, now=now):
        raise LoginRefused(locked_message(), locked=True)
    if code and mfa.verify_totp(user, code, now=now):
        return "totp"
    if recovery_code and mfa.use_recovery_code(user, recovery_code, now=now):
        return "recovery_code"
    kind = "recovery_code" if recovery_code else "totp"
    audit.record("login.mfa_failed", target=user, ip=ip, at=now, username=username, method=kind)
    logger.warning("second factor failed for username=%r from %s", username, ip or "unknown address")
    locked = _count_failure(username, ip, now)
    if locked or throttle.is_locked(username, ip, now=now):
        raise LoginRefused(locked_message(), locked=True)
    if code and mfa.code_already_used(user, code, now=now):
        raise LoginRefused(USED_CODE)  # still counted above: a replay is a failed attempt
    raise LoginRefused(INVALID_RECOVERY_CODE if recovery_code else INVALID_CODE)


def is_locked(user, *, ip: str | None, now=None) -> bool:
    return throttle.is_locked(user.get_username(), ip, now=now)


def reauthenticate(user, password: str, *, ip: str | None, now=None) -> None:
    """A logged-in user confirms their password before a sensitive change; raises LoginRefused.

    Wrong passwords count towards the same lockout as at the login.
    """
    now = now or clock.now()
    if throttle.is_locked(user.get_username(), ip, now=now):
        raise LoginRefused(locked_message(), locked=True)
    if not user.check_password(password):
        reauthentication_failed(user, ip=ip, now=now)
        raise LoginRefused(REAUTH_REFUSED)
    throttle.reset(user.get_username())  # proven, as by a login: earlier slips no longer count


def reauthentication_failed(user, *, ip: str | None, now=None) -> None:
    now = now or clock.now()
    username = user.get_username()
    audit.record("reauth.failed", actor=user, target=user, ip=ip, at=now)
    logger.warning("password re-entry failed for username=%r from %s", username, ip or "unknown address")
    _count_failure(username, ip, now)


def login_succeeded(user) -> None:
    """After the last step passed and the session is logged in: the username starts afresh."""
    throttle.reset(user.get_username())


def _count_failure(username: str, ip: str | None, now) -> bool:
    newly_locked = throttle.register_failure(username, ip, now=now)
    for key in newly_locked:
        scope, _, value = key.partition(":")
        audit.record(
            "login.locked", ip=ip, at=now, scope="username" if scope == "user" else "address", subject=value
        )
        logger.warning("login locked for %s %r", scope, value)
    return bool(newly_locked)


def change_password(user, new_password: str) -> None:
    """Set a new password (already validated against AUTH_PASSWORD_VALIDATORS by the form, which
    also checked the old one: the failures counted against the username start afresh)."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit.record("password.changed", actor=user, target=user)
    throttle.reset(user.get_username())


def create_token(user, name: str, scope: str, expires_at=None) -> tuple[ApiToken, str]:
    """Issue a personal API token; the plaintext is returned once and never stored."""
    with transaction.atomic():
        token, plaintext = ApiToken.issue(user, name=name, scope=scope, expires_at=expires_at)
        audit.record(
            "token.created",
            actor=user,
            target=token,
            token_id=token.token_id,
            token_name=name,
            scope=scope,
            expires_at=expires_at,
        )
    return token, plaintext


def revoke_token(token: ApiToken, *, actor, now=None) -> bool:
    """Revoke a token now; returns False if it was already revoked."""
    now = now or clock.now()
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        if revoked:
            token.revoked_at = now
            audit.record("token.revoked", actor=actor, target=token, at=now, token_id=token.token_id)
    return bool(revoked)
