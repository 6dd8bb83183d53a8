"""A single sign-on from the provider's answer to a Rampart user, every failure audited.

The views own the session (which flow is pending, the final login); this owns the order:
the code exchanged and the token verified, the user found or made, their team roles synced.
"""

import logging
from dataclasses import dataclass

from django.conf import settings

from accounts import audit
from accounts.oidc import config, errors, flow, provisioning, team_sync

logger = logging.getLogger("rampart.auth")


@dataclass(frozen=True)
class SignedIn:
    user: object
    idp_mfa: bool  # the provider's second factor counts as Rampart's (config.idp_did_mfa)


def sign_in(pending: flow.Pending | None, params) -> SignedIn:
    """``params``: the callback's query (code, state, or error). Raises SsoFailed."""
    subject = ""
    try:
        _check_callback(pending, params)
        claims = flow.finish(pending, params["code"])
        subject = claims["sub"]
        user = provisioning.user_for(claims, issuer=settings.RAMPART_OIDC_ISSUER)
        team_sync.sync(user, claims)
    except errors.SsoFailed as failure:
        failed(failure, subject=subject)
        raise
    return SignedIn(user=user, idp_mfa=config.idp_did_mfa(claims))


def failed(failure: errors.SsoFailed, *, subject: str = "") -> None:
    details = {"reason": failure.reason, "method": "oidc"}
    if subject:
        details["subject"] = subject
    audit.record("login.failed", **details)
    # The detail says what the provider sent that was wrong; never a code or a token.
    logger.warning("single sign-on failed (%s) subject=%r: %s", failure.reason, subject, failure.detail)


def _check_callback(pending: flow.Pending | None, params) -> None:
    if pending is None:
        raise errors.stale("no pending login in this session matches the state the provider sent back")
    if pending.expired():
        raise errors.stale("the pending login expired")
    if "error" in params:
        # RFC 6749, 4.1.2.1: the person cancelled, or the provider refused them.
        error = str(params.get("error"))[:64]
        description = str(params.get("error_description", ""))[:200]
        raise errors.refused_by_provider(f"{error}: {description}")
    if not params.get("code"):
        raise errors.stale("the callback carries no code")
