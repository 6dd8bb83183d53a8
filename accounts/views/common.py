"""What every account page shares: no caching, no passwords in error reports, safe redirects."""

from django.conf import settings
from django.shortcuts import resolve_url
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
