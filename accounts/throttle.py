"""Login throttling: lock a username, or a client address, after repeated failures.

A username is counted whether or not such a user exists, so a lockout tells
an attacker nothing about which accounts are real. A successful login clears
the username's count, never the address's: otherwise an attacker with one
valid account could reset their address between guesses.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction

from accounts import clock
from accounts.models import LoginThrottle


def user_key(username: str) -> str:
    # Case-folded: "Admin" and "admin" share one count even if the user model
    # would keep them apart.
    return "user:" + username.strip().casefold()[:150]


def ip_key(ip: str) -> str:
    return "ip:" + ip


def _keys(username: str, ip: str | None) -> list[tuple[str, int]]:
    keys = [(user_key(username), settings.RAMPART_LOGIN_MAX_FAILURES)]
    if ip:
        keys.append((ip_key(ip), settings.RAMPART_LOGIN_IP_MAX_FAILURES))
    return keys


def is_locked(username: str, ip: str | None, *, now=None) -> bool:
    """Whether a login for this username from this address must be refused without checking it."""
    now = now or clock.now()
    keys = [key for key, _ in _keys(username, ip)]
    return LoginThrottle.objects.filter(key__in=keys, locked_until__gt=now).exists()


def register_failure(username: str, ip: str | None, *, now=None) -> list[str]:
    """Count one failed attempt; returns the keys that this failure locked (usually none)."""
    now = now or clock.now()
    window = timedelta(seconds=settings.RAMPART_LOGIN_FAILURE_WINDOW_SECONDS)
    lockout = timedelta(seconds=settings.RAMPART_LOGIN_LOCKOUT_SECONDS)
    newly_locked = []
    with transaction.atomic():
        for key, limit in _keys(username, ip):
            _, created = LoginThrottle.objects.get_or_create(key=key, defaults={"updated_at": now})
            if created:
                # Rows for names nobody uses pile up during a spray; sweep the
                # stale ones whenever a new one appears.
                LoginThrottle.objects.filter(updated_at__lt=now - window - lockout).delete()
            row = LoginThrottle.objects.select_for_update().get(key=key)
            lock_expired = row.locked_until is not None and row.locked_until <= now
            if row.window_started_at is None or now - row.window_started_at >= window or lock_expired:
                row.failures, row.window_started_at, row.locked_until = 0, now, None
            row.failures += 1
            if row.failures >= limit and row.locked_until is None:
                row.locked_until = now + lockout
                newly_locked.append(key)
            row.updated_at = now
            row.save()
    return newly_locked


def reset(username: str) -> None:
    """Clear a username's count and lock (a successful login, or an administrator's unlock)."""
    LoginThrottle.objects.filter(key=user_key(username)).delete()
