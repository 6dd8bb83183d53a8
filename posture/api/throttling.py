"""Rate limits: per client address when anonymous, per token (or per user for the browser session).

Keying by token rather than by user means that one leaked or runaway token of
a user cannot exhaust the budget of the user's other tokens and browser session.
Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], read on every request
so that settings overrides apply; a scope missing there falls back to a default.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken

DEFAULT_RATES = {"anon": "60/min", "user": "1200/min", "export": "30/hour", "ingest": "120/hour"}


class _Rate(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or DEFAULT_RATES[self.scope]


class AddressRateThrottle(_Rate):
    """Anonymous requests, per client address (X-Forwarded-For read per REST_FRAMEWORK["NUM_PROXIES"])."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        if _ingest_token(request) is not None:
            return None  # the agent's pushes have their own budget (IngestRateThrottle)
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenRateThrottle(_Rate):
    scope = "user"

    def get_cache_key(self, request, view):
        ident = principal(request)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ExportRateThrottle(TokenRateThrottle):
    """Exports stream up to millions of rows: a much smaller budget of their own."""

    scope = "export"


class IngestRateThrottle(_Rate):
    scope = "ingest"

    def get_cache_key(self, request, view):
        token = _ingest_token(request)
        ident = f"ingest-{token.pk}" if token is not None else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def principal(request) -> str | None:
    """``token-<id>`` for a personal token, ``user-<pk>`` for a session, None when anonymous."""
    if isinstance(request.auth, ApiToken):
        return f"token-{request.auth.pk}"
    if request.user and request.user.is_authenticated:
        return f"user-{request.user.pk}"
    return None


def _ingest_token(request):
    from posture.models import IngestToken

    return request.auth if isinstance(request.auth, IngestToken) else None
