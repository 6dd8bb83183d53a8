"""What every account page shares: no caching, no passwords in error reports, safe redirects."""

from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

# No page here is ever cached: several show a secret exactly once.
private = method_decorator(never_cache, name="dispatch")
sensitive = method_decorator(
    sensitive_post_parameters(
        "password", "code", "recovery_code", "old_password", "new_password1", "new_password2"
    ),
    name="dispatch",
)


def safe_next(request, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def public_url(request, name: str) -> str:
    """The absolute URL of the named page as the outside world knows it (what a provider has
    registered): from RAMPART_BASE_URL when set, since a proxy may rewrite the host Rampart sees."""
    path = reverse(name)
    return (
        f"{settings.RAMPART_BASE_URL}{path}"
        if settings.RAMPART_BASE_URL
        else request.build_absolute_uri(path)
    )
