"""The one clock the accounts code reads, so tests can move time (patch ``accounts.clock.now``)."""

from django.utils import timezone


def now():
    return timezone.now()
