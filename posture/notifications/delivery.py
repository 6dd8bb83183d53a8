"""Sending one message: sign it, POST it, log the attempt.

Generic webhooks get the JSON document and these headers:

    X-Rampart-Event: findings.new | scan.failed | digest.overdue | agent.attention
    X-Rampart-Delivery: <delivery id>   (the same on every retry: receivers can deduplicate)
    X-Rampart-Timestamp: <unix seconds>
    X-Rampart-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares
in constant time, and rejects old timestamps (replays). Slack-compatible endpoints
get Slack's ``{"text", "blocks"}`` body instead.
"""

import hashlib
import hmac
import http.client
import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import orjson
from django.conf import settings
from django.utils import timezone

from posture import crypto
from posture.models import NotificationAttempt, NotificationDelivery, NotificationEndpoint
from posture.notifications import messages
from posture.notifications.pinned_http import Destination, post

logger = logging.getLogger(__name__)

USER_AGENT = "Rampart-Notifications/1"
MAX_RESPONSE_BYTES = 64 * 1024


class Undeliverable(Exception):
    """The endpoint cannot be used at all (bad URL, forbidden address, unreadable secret): no retry helps."""


@dataclass
class AttemptResult:
    delivered: bool
    retry: bool
    status_code: int | None = None
    error: str = ""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does (and what the tests do)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header or "")


def render(endpoint: NotificationEndpoint, delivery: NotificationDelivery) -> tuple[bytes, dict[str, str]]:
    payload = delivery.payload
    if endpoint.kind == NotificationEndpoint.Kind.SLACK:
        body = orjson.dumps(messages.slack(payload))
    else:
        body = orjson.dumps({**payload, "delivery": delivery.pk})
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Rampart-Event": delivery.event,
        "X-Rampart-Delivery": str(delivery.pk),
        "X-Rampart-Timestamp": timestamp,
    }
    secret = endpoint.get_secret()
    if secret:
        headers["X-Rampart-Signature"] = signature(secret, timestamp, body)
    return body, headers


def check_url(url: str) -> Destination:
    """Where a webhook may be sent: refuse what it must not reach (see
    RAMPART_NOTIFICATION_ALLOW_PRIVATE). The name is resolved here, once; the request goes to
    these addresses (posture/notifications/pinned_http.py)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Undeliverable("the URL must be http(s)://host/...")
    if parts.username or parts.password:
        raise Undeliverable("the URL must not contain a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Undeliverable("the URL's port is not a number from 1 to 65535") from None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise _Transient(f"the host name does not resolve ({exc.__class__.__name__})") from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not settings.RAMPART_NOTIFICATION_ALLOW_PRIVATE:
        for address in addresses:
            if not ipaddress.ip_address(address.split("%")[0]).is_global:
                raise Undeliverable("the URL points to a private, loopback or link-local address")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # The request line is ASCII: a path typed with "é" in it is sent percent-encoded, as browsers do.
    target = quote(target, safe="/?&=%:@!$'()*+,;~")
    return Destination(parts.hostname, port, parts.scheme == "https", target, addresses)


def url_refusal(url: str) -> str | None:
    """Why a webhook URL can never be used, as a sentence for the form that took it; None if it may
    be. A host name that does not resolve yet is allowed: delivery retries."""
    try:
        check_url(url)
    except Undeliverable as exc:
        return f"{str(exc)[:1].upper()}{str(exc)[1:]}."
    except Exception:  # noqa: S110 - not resolving (yet) is no reason to refuse
        pass
    return None


class _Transient(Exception):
    pass


def attempt(delivery_id: int) -> AttemptResult:
    """One HTTP attempt at a delivery, logged; the caller decides on retrying."""
    delivery = NotificationDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != NotificationDelivery.Status.PENDING:
        return AttemptResult(delivered=delivery is not None, retry=False)
    endpoint = delivery.endpoint
    started = time.monotonic()
    result = _send(endpoint, delivery)
    now = timezone.now()
    number = delivery.attempts + 1
    NotificationAttempt.objects.create(
        delivery=delivery,
        number=number,
        at=now,
        status_code=result.status_code,
        error=result.error[:500],
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    fields = {"attempts": number, "status_code": result.status_code, "error": result.error[:500]}
    if result.delivered:
        fields.update(status=NotificationDelivery.Status.DELIVERED, delivered_at=now)
    elif not result.retry:
        fields.update(status=NotificationDelivery.Status.FAILED)
    NotificationDelivery.objects.filter(pk=delivery.pk).update(**fields)
    return result


def give_up(delivery_id: int, note: str = "") -> None:
    pending = NotificationDelivery.objects.filter(pk=delivery_id, status=NotificationDelivery.Status.PENDING)
    if note:
        error = (pending.values_list("error", flat=True).first() or "").rstrip(".")
        pending.update(
            status=NotificationDelivery.Status.FAILED, error=f"{error}; {note}"[:500] if error else note
        )
    else:
        pending.update(status=NotificationDelivery.Status.FAILED)


def _send(endpoint: NotificationEndpoint, delivery: NotificationDelivery) -> AttemptResult:
    try:
        destination = check_url(endpoint.get_url())
        body, headers = render(endpoint, delivery)
    except crypto.CredentialsUnreadable:
        return AttemptResult(False, retry=False, error="the endpoint's URL or secret cannot be decrypted")
    except Undeliverable as exc:
        return AttemptResult(False, retry=False, error=str(exc))
    except _Transient as exc:
        return AttemptResult(False, retry=True, error=str(exc))
    try:
        status = post(
            destination,
            body,
            headers,
            timeout=settings.RAMPART_NOTIFICATION_TIMEOUT,
            limit=MAX_RESPONSE_BYTES,
        )
    except (OSError, http.client.HTTPException) as exc:
        # Only the kind of failure: the text could quote the URL, which is a credential for Slack.
        return AttemptResult(False, retry=True, error=f"could not reach the endpoint ({type(exc).__name__})")
    if 200 <= status < 300:
        return AttemptResult(True, retry=False, status_code=status)
    # 4xx other than 408/429 will not get better by retrying the same request; nor will a
    # redirect, which is not followed.
    retry = status >= 500 or status in (408, 429)
    return AttemptResult(False, retry=retry, status_code=status, error=f"the endpoint answered HTTP {status}")
