"""JSON to and from the identity provider: a timeout on every call, redirects never followed,
answers of bounded size, and only to URLs that config.is_usable_url() accepts."""

import json
import logging
import urllib.error
import urllib.request
from urllib.parse import urlencode

from django.conf import settings

from accounts.oidc import config

logger = logging.getLogger("rampart.auth")

MAX_BYTES = 1024 * 1024  # a discovery document or a token answer is a few kilobytes


class Unavailable(Exception):
    """The provider is down, slow, answered 5xx or something that is not JSON."""


class Refused(Exception):
    """The provider answered 4xx; ``body`` is its JSON error, if it sent one (RFC 6749, 5.2)."""

    def __init__(self, status: int, body: dict):
        super().__init__(f"HTTP {status}: {body.get('error', '')}")
        self.status = status
        self.body = body


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could carry the client secret or a token to another host: treat it as an error.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


# Requests are built here for URLs that _call() checks before opening (https, or loopback http).


def get_json(url: str, *, headers: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310
        url, headers={"Accept": "application/json", **(headers or {})}
    )
    return _call(request)


def post_form(url: str, fields: dict, *, headers: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310
        url,
        data=urlencode(fields).encode(),
        method="POST",
        headers={
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
            **(headers or {}),
        },
    )
    return _call(request)


def _call(request: urllib.request.Request) -> dict:
    if not config.is_usable_url(request.full_url):
        raise Unavailable(f"refusing to call {request.full_url!r}: HTTPS is required")
    try:
        # The scheme was checked just above: https, or http to the loopback address.
        with _opener.open(request, timeout=settings.RAMPART_OIDC_TIMEOUT) as response:  # noqa: S310
            raw = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as error:
        status = error.code
        body = _json_or_empty(error.read(MAX_BYTES))
        error.close()
        if 400 <= status < 500:
            raise Refused(status, body) from None
        raise Unavailable(f"HTTP {status} from {request.full_url}") from None
    except TimeoutError as error:
        raise Unavailable(
            f"no answer within {settings.RAMPART_OIDC_TIMEOUT} s from {request.full_url}"
        ) from error
    except (urllib.error.URLError, OSError) as error:
        raise Unavailable(f"cannot reach {request.full_url}: {getattr(error, 'reason', error)}") from error
    if len(raw) > MAX_BYTES:
        raise Unavailable(f"answer from {request.full_url} larger than {MAX_BYTES} bytes")
    try:
        body = json.loads(raw)
    except ValueError:
        raise Unavailable(f"answer from {request.full_url} is not JSON") from None
    if not isinstance(body, dict):
        raise Unavailable(f"answer from {request.full_url} is not a JSON object")
    return body


def _json_or_empty(raw: bytes) -> dict:
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
