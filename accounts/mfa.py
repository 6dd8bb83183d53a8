"""TOTP second factor (RFC 6238, via pyotp) and one-time recovery codes.

State changes live here; the views only move users between pages. Every
function takes a user and plain values, and ``now`` for tests that move time.
"""

import hashlib
import hmac
import secrets

import pyotp
import segno
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from accounts import audit, clock
from accounts.models import Membership, RecoveryCode, Role, TotpDevice
from posture import crypto

STEP_SECONDS = 30
# One step either side absorbs clock drift between the phone and the server.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10


class AlreadyEnrolled(Exception):
    """The user already has a confirmed authenticator; disable it first."""


class InvalidCode(Exception):
    """The code is wrong, expired or was already used."""


# --- Policy ---------------------------------------------------------------------


def is_enrolled(user) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def is_required_for(user) -> bool:
    """RAMPART_MFA_REQUIRED: "none", "admins" (superusers, staff, team admins) or "all"."""
    policy = settings.RAMPART_MFA_REQUIRED
    if policy == "all":
        return True
    if policy == "admins":
        return (
            user.is_superuser
            or user.is_staff
            or Membership.objects.filter(user=user, role=Role.ADMIN).exists()
        )
    return False


# --- Enrolment ------------------------------------------------------------------


def begin_enrolment(user) -> TotpDevice:
    """The user's pending authenticator, made on first call.

    The secret stays the same until confirmed, so reloading the page does not
    invalidate what the user has already scanned.
    """
    # get_or_create: two tabs opening the page at once share one secret.
    device, _ = TotpDevice.objects.get_or_create(
        user=user, defaults={"secret_encrypted": crypto.encrypt(pyotp.random_base32())}
    )
    if device.confirmed_at is not None:
        raise AlreadyEnrolled("two-factor authentication is already on")
    return device


def secret_of(device: TotpDevice) -> str:
    return crypto.decrypt(device.secret_encrypted)


def provisioning_uri(device: TotpDevice) -> str:
    """The otpauth:// URI that authenticator apps read from the QR code."""
    return pyotp.TOTP(secret_of(device)).provisioning_uri(
        name=device.user.get_username(), issuer_name=settings.RAMPART_MFA_ISSUER
    )


def qr_code_data_uri(uri: str) -> str:
    """The URI as a QR code in an SVG data: URI (img-src allows data:, so no inline markup or script)."""
    # A white quiet zone of four modules, as the QR standard asks, so dark themes scan too.
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=4, dark="#000", light="#fff")


def confirm_enrolment(user, code: str, *, now=None) -> list[str]:
    """Turn the pending authenticator on with a first valid code; returns the new recovery codes."""
    now = now or clock.now()
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=True).first()
        if device is None:
            raise InvalidCode("no authenticator is waiting to be confirmed")
        step = _matching_step(secret_of(device), code, now)
        if step is None:
            raise InvalidCode("that code is not valid")
        device.confirmed_at = now
        device.last_used_step = step  # the confirming code cannot be replayed to log in
        device.save(update_fields=["confirmed_at", "last_used_step"])
        codes = _replace_recovery_codes(user)
        audit.record("mfa.enabled", actor=user, target=user, at=now)
    return codes


def disable(user, *, actor=None, now=None) -> None:
    """Remove the authenticator and the recovery codes (the password is checked by the caller)."""
    with transaction.atomic():
        deleted, _ = TotpDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        if deleted:
            audit.record("mfa.disabled", actor=actor or user, target=user, at=now)


def regenerate_recovery_codes(user, *, now=None) -> list[str]:
    """Replace every recovery code, used or not; returns the new ones (shown once)."""
    if not is_enrolled(user):
        raise InvalidCode("two-factor authentication is off")
    with transaction.atomic():
        codes = _replace_recovery_codes(user)
        audit.record("mfa.recovery_codes_regenerated", actor=user, target=user, at=now)
    return codes


def unused_recovery_codes(user) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


# --- Verification ---------------------------------------------------------------


def verify_totp(user, code: str, *, now=None) -> bool:
    """A valid code from the confirmed authenticator, for a step newer than the last one accepted."""
    now = now or clock.now()
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return False
    step = _matching_step(secret_of(device), code, now)
    if step is None:
        return False
    # A conditional UPDATE claims the step: of two requests with the same code
    # (a replay, or a double submit), exactly one wins.
    claimed = (
        TotpDevice.objects.filter(pk=device.pk)
        .filter(Q(last_used_step__isnull=True) | Q(last_used_step__lt=step))
        .update(last_used_step=step)
    )
    return claimed == 1


def code_already_used(user, code: str, *, now=None) -> bool:
    """A valid code whose step has been accepted already (logging in again within 30 s of the last time)."""
    now = now or clock.now()
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None or device.last_used_step is None:
        return False
    step = _matching_step(secret_of(device), code, now)
    return step is not None and step <= device.last_used_step


def use_recovery_code(user, code: str, *, now=None) -> bool:
    """Spend one recovery code; the same code never works twice."""
    now = now or clock.now()
    normalised = normalise_recovery_code(code)
    if not normalised:
        return False
    spent = RecoveryCode.objects.filter(user=user, code_hash=_hash(normalised), used_at__isnull=True).update(
        used_at=now
    )
    if spent != 1:
        return False
    audit.record(
        "mfa.recovery_code_used", actor=user, target=user, at=now, remaining=unused_recovery_codes(user)
    )
    return True


# --- Helpers --------------------------------------------------------------------

_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l/1/o/0 to misread


def _new_recovery_code() -> str:
    # 16 characters of a 32-letter alphabet: 80 random bits.
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.casefold() if ch.isalnum())[:32]


def _hash(normalised: str) -> str:
    return hashlib.sha256(normalised.encode()).hexdigest()


def _replace_recovery_codes(user) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_hash(normalise_recovery_code(code))) for code in codes
    )
    return codes


def _matching_step(secret: str, code: str, now) -> int | None:
    code = "".join(code.split())
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None
