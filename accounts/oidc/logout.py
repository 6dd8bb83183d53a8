"""Ending the session at the provider too (OpenID Connect RP-Initiated Logout 1.0).

Logging out of Rampart alone would leave the provider's session open: on a shared machine the next
person to press "Log in with …" would be let in as the last one. So a person who came in by single
sign-on is sent on to the provider's end_session_endpoint, which ends its session and sends the
browser back to Rampart's login page. No ID token is kept for this (``id_token_hint``): the client
id says which client asks, which providers accept with a registered post-logout redirect URI.
"""

import logging
from urllib.parse import urlencode

from django.conf import settings

from accounts.oidc import config, discovery, errors

logger = logging.getLogger("rampart.auth")

# Set in the session at a single sign-on: how this session began.
SSO_SESSION_KEY = "accounts.sso"


def provider_logout_url(post_logout_redirect_uri: str) -> str | None:
    """Where to send the browser after the local logout, or None to stay (no SSO, switched off, a
    provider without RP-initiated logout, or one that cannot be reached now)."""
    if not (config.enabled() and settings.RAMPART_OIDC_LOGOUT_AT_PROVIDER):
        return None
    try:
        endpoint = discovery.provider().end_session_endpoint
    except errors.SsoFailed as failure:
        logger.warning("OIDC logout at the provider skipped: %s", failure.detail)
        return None
    if not endpoint:
        return None
    query = urlencode(
        {"client_id": settings.RAMPART_OIDC_CLIENT_ID, "post_logout_redirect_uri": post_logout_redirect_uri}
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
