"""What is configured for single sign-on, read from settings (posture/settings.py) at each use.

Read at each use rather than once, so that tests (and nothing else) can change them.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings

# amr values (RFC 8176) that mean the provider checked a second factor: "mfa" says so outright;
# a one-time password or a hardware or software key is one whatever else was used.
MFA_AMR_VALUES = frozenset({"mfa", "otp", "hwk", "swk"})


def enabled() -> bool:
    return bool(settings.RAMPART_OIDC_ISSUER)


def provider_name() -> str:
    return settings.RAMPART_OIDC_PROVIDER_NAME


def password_login_open() -> bool:
    """False when RAMPART_OIDC_ONLY is on: then only superusers may use a password."""
    return not (enabled() and settings.RAMPART_OIDC_ONLY)


def discovery_url(issuer: str) -> str:
    # OpenID Connect Discovery 1.0, section 4: the issuer without its trailing slash, then the path.
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def is_usable_url(url: str) -> bool:
    """HTTPS, or plain HTTP to this machine only (a provider on the loopback address in development).

    Tokens and the client secret never cross a network in clear text.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        return False
    if not host or parts.username or parts.password:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and _is_loopback(host)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def idp_did_mfa(claims: dict) -> bool:
    """Whether this login counts as having passed a second factor (see README, Single sign-on)."""
    if settings.RAMPART_OIDC_TRUST_IDP_MFA:
        return True
    amr = claims.get("amr")
    if isinstance(amr, str):
        amr = [amr]
    if not isinstance(amr, list):
        return False
    return any(isinstance(value, str) and value.lower() in MFA_AMR_VALUES for value in amr)
