"""The audit log: one function, ``record()``, that every part of Rampart calls.

Logins, logouts and failed logins are recorded from Django's auth signals
(connected in accounts.apps); MFA, token, password and key actions from the
services that perform them; cluster, triage and exception changes from their
own services.
"""

import json
import logging
import re

from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from accounts import clock
from accounts.models import AuditEvent
from posture import request_id as request_context

logger = logging.getLogger("rampart.audit")

# A detail whose key looks like one of these is stored as "[redacted]": the
# audit log is read by more people than the secrets it would otherwise leak.
_SECRET_KEY = re.compile(r"pass|secret|token$|^token|^otp|code$|credential|private|key$|plaintext", re.I)
_SAFE_KEYS = {"token_id", "token_name", "status_code", "check_key"}
REDACTED = "[redacted]"

# Suggestions for the audit page's action filter; other apps' actions work
# whether or not they are listed here.
KNOWN_ACTIONS = [
    "login.succeeded",
    "login.failed",
    "login.locked",
    "login.mfa_failed",
    "logout",
    "mfa.enabled",
    "mfa.disabled",
    "mfa.recovery_code_used",
    "mfa.recovery_codes_regenerated",
    "password.changed",
    "token.created",
    "token.revoked",
    "keys.rotated",
    "cluster.created",
    "cluster.updated",
    "cluster.credentials_changed",
    "cluster.deleted",
    "cluster.identity_accepted",
    "cluster.other_cluster_dismissed",
    "cluster.paused",
    "cluster.resumed",
    "ingest_token.created",
    "ingest_token.revoked",
    "exception.created",
    "exception.revoked",
    "triage.status_changed",
    "triage.assigned",
    "notification_endpoint.created",
    "notification_endpoint.updated",
    "notification_endpoint.deleted",
    "user.created",
    "user.changed",
    "team.created",
    "membership.added",
    "membership.role_changed",
    "membership.removed",
]


def record(
    action: str,
    *,
    actor=None,
    target=None,
    request=None,
    ip: str | None = None,
    at=None,
    **details,
) -> AuditEvent:
    """Write one audit event and return it.

    - ``action``: dotted, past tense, stable — ``"cluster.created"``,
      ``"cluster.credentials_changed"``, ``"finding.risk_accepted"``,
      ``"exception.created"``, ``"token.revoked"``. Filters and exports match
      on it; do not rename one once shipped.
    - ``actor``: the user who did it; ``None`` for the system (beat jobs,
      management commands) or an anonymous attempt. AnonymousUser counts as None.
    - ``target``: the model instance acted on (type ``app_label.model``, its
      pk and ``str()`` are stored, so the row survives the target's deletion),
      or ``None``.
    - ``request``: optional, read only for the client address. Services need
      not pass it: inside a request the address and the request id are taken
      from the current request context (posture.request_id) automatically.
    - ``ip``: the client address, if known better than the request context does.
    - ``at``: when it happened, default now.
    - ``**details``: JSON-serialisable facts (dates and decimals are fine),
      e.g. ``fields=["schedule"]``, ``reason="..."``, ``from_status="open"``.
      Never secrets: keys that look like passwords, tokens, secrets, keys or
      codes are stored as ``"[redacted]"`` all the same.

    The event is written in the caller's transaction: if the change it
    describes is rolled back, so is its audit row.
    """
    context = request_context.current()
    if ip is None and request is not None:
        ip = request_context.client_ip(request)
    if ip is None and context is not None:
        ip = context.ip
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    event = AuditEvent(
        at=at or clock.now(),
        actor=actor,
        actor_label=actor.get_username()[:150] if actor is not None else "",
        action=action[:64],
        ip=ip,
        request_id=(context.request_id if context else "")[:128],
        details=_clean(details),
    )
    if target is not None:
        event.target_type, event.target_id, event.target_label = _describe(target)
    event.save()
    return event


def _describe(target) -> tuple[str, str, str]:
    if isinstance(target, models.Model):
        meta = target._meta
        return f"{meta.app_label}.{meta.model_name}", str(target.pk), str(target)[:200]
    return type(target).__name__.lower()[:100], "", str(target)[:200]


def _clean(details: dict) -> dict:
    cleaned = {}
    for key, value in details.items():
        if key not in _SAFE_KEYS and _SECRET_KEY.search(key):
            cleaned[key] = REDACTED
        elif isinstance(value, dict):
            cleaned[key] = _clean(value)
        else:
            cleaned[key] = value
    # Round-trip through the JSON encoder so dates, decimals and UUIDs are stored as text.
    return json.loads(json.dumps(cleaned, cls=DjangoJSONEncoder))


# --- Django's auth signals --------------------------------------------------------


def _on_logged_in(sender, request, user, **kwargs):
    # The login views note which second factor passed (None: password only).
    second_factor = getattr(request, "rampart_second_factor", None)
    # Said only for single sign-on ("oidc"): a password login's row stays as it always was.
    method = getattr(request, "rampart_login_method", "password")
    extra = {"method": method} if method != "password" else {}
    # "none": a password alone (no second factor required of this account).
    record(
        "login.succeeded",
        actor=user,
        target=user,
        request=request,
        second_factor=second_factor or "none",
        **extra,
    )


def _on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        record("logout", actor=user, target=user, request=request)


def _on_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already replaced the password in ``credentials`` with stars;
    # only the username is kept, never the rest.
    username = str(credentials.get("username", ""))[:150]
    event = record("login.failed", request=request, username=username, reason="bad_credentials")
    logger.warning("login failed for username=%r from %s", username, event.ip or "unknown address")


def connect_signals() -> None:
    user_logged_in.connect(_on_logged_in, dispatch_uid="accounts.audit.logged_in")
    user_logged_out.connect(_on_logged_out, dispatch_uid="accounts.audit.logged_out")
    user_login_failed.connect(_on_login_failed, dispatch_uid="accounts.audit.login_failed")
