"""The authorization code flow: the request that sends the browser to the provider, and the
back-channel exchange of the code it brings back for verified claims.

What the browser must bring back (state) and what only Rampart knows (nonce, PKCE verifier) are
kept in a ``Pending`` that the view stores in the session; nothing of it is put in a cookie of
its own or trusted from the query string.
"""

import base64
import hashlib
import logging
import secrets
from dataclasses import asdict, dataclass
from urllib.parse import quote, urlencode

from django.conf import settings

from accounts import clock
from accounts.oidc import discovery, errors, http, tokens

logger = logging.getLogger("rampart.auth")

PENDING_SECONDS = 600  # time to log in at the provider


@dataclass(frozen=True)
class Pending:
    state: str
    nonce: str
    verifier: str
    redirect_uri: str
    next_url: str
    started_at: int

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Pending":
        return cls(**data)

    def expired(self) -> bool:
        return clock.now().timestamp() - self.started_at > PENDING_SECONDS


def begin(redirect_uri: str, next_url: str) -> tuple[str, Pending]:
    """The provider's authorization URL to send the browser to, and what to keep until it returns."""
    provider = discovery.provider()
    pending = Pending(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        verifier=secrets.token_urlsafe(64),  # 86 characters: within PKCE's 43 to 128
        redirect_uri=redirect_uri,
        next_url=next_url,
        started_at=int(clock.now().timestamp()),
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.RAMPART_OIDC_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": " ".join(settings.RAMPART_OIDC_SCOPES),
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": _challenge(pending.verifier),
            "code_challenge_method": "S256",
        },
        quote_via=quote,
    )
    endpoint = provider.authorization_endpoint
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}", pending


def finish(pending: Pending, code: str) -> dict:
    """The verified claims of the ID token (with the userinfo's profile), or raises SsoFailed."""
    provider = discovery.provider()
    answer = _exchange(provider, pending, code)
    id_token = answer.get("id_token")
    if not isinstance(id_token, str):
        raise errors.bad_token("the token endpoint sent no id_token")
    try:
        claims = tokens.verify(
            id_token,
            provider=provider,
            client_id=settings.RAMPART_OIDC_CLIENT_ID,
            nonce=pending.nonce,
            now=clock.now(),
        )
    except tokens.InvalidToken as error:
        raise errors.bad_token(str(error)) from None
    return _with_userinfo(provider, claims, answer.get("access_token"))


def _exchange(provider: discovery.Provider, pending: Pending, code: str) -> dict:
    # client_secret_basic (the default of OpenID Connect Core, 9): id and secret form-encoded, then
    # base64 (RFC 6749, 2.3.1), sent to the token endpoint only, over the back channel.
    client_id = quote(settings.RAMPART_OIDC_CLIENT_ID, safe="")
    credentials = f"{client_id}:{quote(settings.RAMPART_OIDC_CLIENT_SECRET, safe='')}"
    try:
        return http.post_form(
            provider.token_endpoint,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": pending.redirect_uri,
                "code_verifier": pending.verifier,
            },
            headers={"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()},
        )
    except http.Unavailable as error:
        raise errors.provider_unavailable(str(error)) from None
    except http.Refused as error:
        code_name = str(error.body.get("error", ""))[:64]
        if error.status == 401 or code_name == "invalid_client":
            raise errors.misconfigured(f"the token endpoint refused the client: {error}") from None
        raise errors.stale(f"the token endpoint refused the code: {error}") from None


# Profile claims the userinfo may add or bring up to date; never iss, aud, nonce, amr or sub,
# which only the signed ID token may say.
USERINFO_CLAIMS = ("email", "email_verified", "preferred_username", "name")


def _with_userinfo(provider: discovery.Provider, claims: dict, access_token) -> dict:
    if not provider.userinfo_endpoint or not isinstance(access_token, str):
        return claims
    try:
        info = http.get_json(provider.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"})
    except (http.Unavailable, http.Refused) as error:
        # The ID token alone is enough to log in: a userinfo hiccup costs only its extras.
        logger.warning("OIDC userinfo not read, using the ID token's claims alone: %s", error)
        return claims
    # Core, 5.3.2: a userinfo answer about another subject must not be used.
    if info.get("sub") != claims["sub"]:
        logger.warning("OIDC userinfo ignored: its subject is not the ID token's")
        return claims
    merged = dict(claims)
    for name in (*USERINFO_CLAIMS, settings.RAMPART_OIDC_GROUPS_CLAIM):
        if name in info and name not in claims:
            merged[name] = info[name]
    return merged


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
