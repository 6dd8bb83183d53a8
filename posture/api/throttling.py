"""Rate limits: per client address when anonymous, per token (or per user for the browser session).

Keying by token rather than by user means that one leaked or runaway token of
a user cannot exhaust the budget of the user's other tokens and browser session.
Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], read on every request
so that settings overrides apply; a scope missing there falls back to a default.
"""

from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken

DEFAULT_RATES = {"anon": "60/min", "user": "1200/min", "export": "30/hour", "ingest": "120/hour"}


class _Rate(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or DEFAULT_RATES[self.scope]


class AddressRateThrottle(_Rate):
    """Anonymous requests, per client address (X-Forwarded-For read per REST_FRAMEWORK["NUM_PROXIES"]).

    A request with a wrong token counts here too (before its 401), so that guessing
    tokens from one address is slowed down like any other anonymous traffic.
    """

    scope = "anon"

    def allow_request(self, request, view):
        try:
            authenticated = bool(request.user and request.user.is_authenticated)
            failure = None
        except AuthenticationFailed as exc:
            authenticated, failure = False, exc
        if authenticated or _ingest_token(request) is not None:
            return True  # budgets per token: TokenRateThrottle, IngestRateThrottle
        if not super().allow_request(request, view):
            return False
        if failure is not None:
            raise failure
        return True

    def get_cache_key(self, request, view):
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


class ThrottleFirstMixin:
    """Throttle before authentication and permissions (DRF checks them first), so that
    anonymous and failed requests are limited too, not only the ones that got in."""

    def initial(self, request, *args, **kwargs):
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(request)
        request.version, request.versioning_scheme = self.determine_version(request, *args, **kwargs)
        self.check_throttles(request)
        self.perform_authentication(request)
        self.check_permissions(request)
        from posture.api.parsers import storable_text

        for name, values in request.query_params.lists():
            if not all(storable_text(text) for text in (name, *values)):
                raise ValidationError({name[:50]: ["Text may not contain NUL characters."]})
