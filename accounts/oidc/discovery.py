"""The provider's endpoints (OpenID Connect Discovery) and signing keys (JWKS), fetched and cached.

Cached for an hour in Django's cache (shared by every web process with Redis): a login costs no
extra round trip, and a provider's key rotation is picked up when an unknown key id turns up.
"""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from accounts.oidc import config, errors, http

CACHE_SECONDS = 3600


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    end_session_endpoint: str = ""  # RP-initiated logout, where the provider offers it


def provider() -> Provider:
    """The configured provider's endpoints; raises SsoFailed when they cannot be had or trusted."""
    issuer = settings.RAMPART_OIDC_ISSUER
    key = _cache_key("discovery", issuer)
    document = cache.get(key)
    if document is None:
        document = _fetch(config.discovery_url(issuer))
        _check(document, issuer)
        cache.set(key, document, CACHE_SECONDS)
    return Provider(
        issuer=issuer,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=document.get("userinfo_endpoint") or "",
        end_session_endpoint=document.get("end_session_endpoint") or "",
    )


def signing_keys(jwks_uri: str, *, refresh: bool = False) -> list[dict]:
    """The provider's public keys (JWK dicts). ``refresh`` fetches them again, past the cache."""
    key = _cache_key("jwks", jwks_uri)
    keys = None if refresh else cache.get(key)
    if keys is None:
        document = _fetch(jwks_uri)
        keys = [jwk for jwk in document.get("keys", []) if isinstance(jwk, dict)]
        cache.set(key, keys, CACHE_SECONDS)
    return keys


def _fetch(url: str) -> dict:
    try:
        return http.get_json(url)
    except http.Unavailable as error:
        raise errors.provider_unavailable(str(error)) from None
    except http.Refused as error:
        raise errors.provider_unavailable(f"{url}: {error}") from None


def _check(document: dict, issuer: str) -> None:
    # Discovery, section 4.3: the document's issuer is exactly the one asked for; otherwise
    # whoever answers could speak for another provider.
    if document.get("issuer") != issuer:
        raise errors.misconfigured(
            f"the discovery document names issuer {document.get('issuer')!r}, not the configured {issuer!r}"
        )
    for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(field)
        if not isinstance(value, str) or not config.is_usable_url(value):
            raise errors.misconfigured(f"the discovery document's {field} is missing or not HTTPS: {value!r}")
    for field in ("userinfo_endpoint", "end_session_endpoint"):
        value = document.get(field)
        if value and (not isinstance(value, str) or not config.is_usable_url(value)):
            raise errors.misconfigured(f"the discovery document's {field} is not HTTPS: {value!r}")


def _cache_key(kind: str, url: str) -> str:
    return f"rampart:oidc:{kind}:{hashlib.sha256(url.encode()).hexdigest()}"
