import hmac
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import ApiToken

LAST_USED_RESOLUTION = timedelta(minutes=1)  # avoid a write on every request


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer rpt_<id>_<secret>`` (or ``Token``)."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1", errors="replace").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header.")
        return self.authenticate_token(header[1])

    def authenticate_token(self, raw: str):
        invalid = exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        if not raw.startswith(ApiToken.PREFIX):
            raise invalid
        token_id, _, secret = raw[len(ApiToken.PREFIX) :].partition("_")
        if not token_id or not secret:
            raise invalid
        token = ApiToken.objects.active().select_related("user").filter(token_id=token_id).first()
        if token is None or not hmac.compare_digest(token.secret_hash, ApiToken.hash_secret(secret)):
            raise invalid
        if not token.user.is_active:
            raise invalid
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
