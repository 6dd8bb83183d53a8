"""What can go wrong in a single sign-on, as one line for the login page and a reason for the logs.

The page says what the person can do about it; the reason (and the log line) says what happened,
for the administrator. Neither ever holds a token or a code.
"""

from django.conf import settings


class SsoFailed(Exception):
    """A single sign-on that did not log anybody in. ``reason`` is a short code for the audit log."""

    def __init__(self, message: str, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.message = message
        self.reason = reason
        self.detail = detail


def _name() -> str:
    return settings.RAMPART_OIDC_PROVIDER_NAME


def provider_unavailable(detail: str) -> SsoFailed:
    return SsoFailed(
        f"{_name()} did not answer in time, so you are not logged in. Try again in a moment.",
        "provider_unavailable",
        detail,
    )


def misconfigured(detail: str) -> SsoFailed:
    return SsoFailed(
        f"Logging in with {_name()} is not set up correctly. Tell your Rampart administrator.",
        "misconfigured",
        detail,
    )


def stale(detail: str) -> SsoFailed:
    return SsoFailed(
        "That login was interrupted or was not started here. Please log in again.", "bad_state", detail
    )


def refused_by_provider(detail: str) -> SsoFailed:
    return SsoFailed(f"{_name()} did not log you in. Please try again.", "provider_refused", detail)


def bad_token(detail: str) -> SsoFailed:
    return SsoFailed(
        f"The answer from {_name()} could not be verified, so you are not logged in. "
        "If this keeps happening, tell your Rampart administrator.",
        "bad_token",
        detail,
    )


def not_allowed(reason: str, detail: str = "") -> SsoFailed:
    return SsoFailed(
        "Your account is not allowed to log in to Rampart. Ask your Rampart administrator for access.",
        reason,
        detail,
    )


def deactivated(detail: str = "") -> SsoFailed:
    return SsoFailed(
        "Your Rampart account is deactivated. Ask your Rampart administrator.", "user_inactive", detail
    )
