"""Raw GET requests to an API server through the official client, with errors a user can act on.

Responses are returned as bytes (``_preload_content=False`` in effect): the
caller parses them with orjson. Network and TLS failures become a
TransportError with one line; tracebacks go to the log only. The bearer
token never appears in a message or a log record: nothing here formats
headers or the client's exceptions (whose text includes the headers).
"""

import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson
from kubernetes.client import ApiClient
from urllib3 import exceptions as urllib3_errors

from posture.scanning.collectors.connection import Connection
from posture.scanning.collectors.errors import CollectionError
from posture.scanning.collectors.metadata_guard import MetadataAddressRefused

logger = logging.getLogger(__name__)

_MAX_REASON = 300
# OpenSSL's verify codes, in the words of someone holding the CA bundle.
_VERIFY_REASONS = {
    9: "the server's certificate is not valid yet (check the clocks)",
    10: "the server's certificate has expired",
    18: "the server's certificate is self-signed and is not the CA bundle Rampart was given",
    19: "the server's certificate is not signed by the CA bundle Rampart was given",
    20: "the server's certificate is not signed by the CA bundle Rampart was given",
    21: "the server's certificate is not signed by the CA bundle Rampart was given",
}


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = ""
    retry_after: int | None = None  # seconds, from a Retry-After header


# A server that asks Rampart to slow down (429 from API Priority and Fairness, or a 5xx with
# Retry-After from one that is restarting) is asked again after the wait it names, as client-go
# does; a few times, and never waiting longer in all than the request timeout.
MAX_THROTTLED_RETRIES = 5
DEFAULT_RETRY_WAIT = 1.0  # for a 429 that names no wait


class TransportError(Exception):
    def __init__(self, message: str, *, timeout: bool = False, transient: bool = False):
        super().__init__(message)
        self.message = message
        self.timeout = timeout
        # Worth retrying shortly (refused, reset, timed out) rather than a setting to fix (TLS, DNS, proxy).
        self.transient = transient or timeout


# One page of 500 objects is a few MiB; a server that sends more than this is not one to trust
# with Rampart's memory (a hostile endpoint can stream gigabytes).
MAX_RESPONSE_BYTES = 256 * 1024 * 1024


class ResponseTooLarge(Exception):
    pass


def _read_capped(raw) -> bytes:
    chunks, size = [], 0
    for chunk in raw.stream(1 << 20, decode_content=True):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            limit = MAX_RESPONSE_BYTES
            shown = f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit:,} bytes"
            raise ResponseTooLarge(f"the API server sent more than {shown} in one response")
        chunks.append(chunk)
    return b"".join(chunks)


class Transport:
    def __init__(self, api_client: ApiClient, connection: Connection, timeout: float):
        self.api_client = api_client
        self.connection = connection
        self.api_url = connection.api_url
        self.timeout = timeout
        self._requests = 0
        self._lock = threading.Lock()

    @property
    def requests(self) -> int:
        return self._requests

    def get(
        self, path: str, query: list[tuple[str, object]] | None = None, *, accept: str = "application/json"
    ) -> Response:
        response = self._get_once(path, query, accept)
        retries, waited = 0, 0.0
        while (wait := _retry_wait(response)) is not None and retries < MAX_THROTTLED_RETRIES:
            if waited + wait > self.timeout:
                break
            logger.info(
                "GET %s%s answered %s; asking again in %g s", self.api_url, path, response.status, wait
            )
            time.sleep(wait)
            retries, waited = retries + 1, waited + wait
            response = self._get_once(path, query, accept)
        return response

    def _get_once(self, path: str, query: list[tuple[str, object]] | None, accept: str) -> Response:
        method, url, headers, body, post_params = self.api_client.param_serialize(
            method="GET",
            resource_path=path,
            query_params=list(query or []),
            header_params={"Accept": accept},
            auth_settings=["BearerToken"],
        )
        with self._lock:
            self._requests += 1
        started = time.monotonic()
        try:
            response = self.api_client.call_api(
                method,
                url,
                header_params=headers,
                body=body,
                post_params=post_params,
                _request_timeout=(min(self.timeout, 10.0), self.timeout),
            )
            try:
                data = _read_capped(response.response)
            finally:
                response.response.release_conn()
        except Exception as exc:  # urllib3, ssl and the client each raise their own kinds
            message, is_timeout = self.explain(exc)
            logger.warning(
                "GET %s%s failed: %s",
                self.api_url,
                path,
                message,
                exc_info=logger.isEnabledFor(logging.DEBUG),
            )
            raise TransportError(message, timeout=is_timeout, transient=_is_transient(exc)) from None
        logger.debug(
            "GET %s%s -> %s (%d bytes, %.3f s)",
            self.api_url,
            path,
            response.status,
            len(data),
            time.monotonic() - started,
        )
        content_type = response.headers.get("Content-Type", "") if response.headers else ""
        retry_after = response.headers.get("Retry-After") if response.headers else None
        return Response(
            status=response.status, body=data, content_type=content_type, retry_after=_seconds(retry_after)
        )

    def raise_if_unauthorized(self, response: Response) -> None:
        if response.status != 401:
            return
        if self.connection.auth_method == "client certificate":
            credential = "the client certificate was not accepted (wrong CA, or expired)"
        elif self.connection.auth_method == "token":
            credential = "the token is invalid or has expired"
        else:
            credential = "no credentials were given"
        raise CollectionError(
            f"the API server rejected Rampart's credentials (401 Unauthorized): {credential}"
        )

    def explain(self, exc: BaseException) -> tuple[str, bool]:
        """One line for a failed request, and whether it was a timeout."""
        causes = list(_causes(exc))
        where = self.api_url
        if isinstance(exc, ResponseTooLarge):
            return f"{exc} (from {where})", False
        host = urlsplit(self.api_url).hostname or self.api_url
        for cause in causes:
            if isinstance(cause, MetadataAddressRefused):
                return (
                    f"cannot reach the API server at {where}: the host name {cause.host!r} now resolves "
                    "to a link-local or cloud metadata address, where Rampart never connects"
                ), False
        for cause in causes:
            if isinstance(cause, ssl.SSLCertVerificationError):
                return f"TLS verification of {where} failed: {self._verify_reason(cause, host)}", False
        for cause in causes:
            if isinstance(cause, urllib3_errors.NameResolutionError | socket.gaierror):
                return (
                    f"cannot reach the API server at {where}: the host name {host!r} does not resolve",
                    False,
                )
            if isinstance(cause, ConnectionRefusedError):
                return f"cannot reach the API server at {where}: connection refused", False
        for cause in causes:
            if isinstance(cause, urllib3_errors.ProxyError):
                return f"cannot reach the API server at {where} through the proxy", False
        for cause in causes:
            # NewConnectionError subclasses ConnectTimeoutError; its real cause was handled above.
            if isinstance(cause, urllib3_errors.NewConnectionError):
                continue
            if isinstance(cause, urllib3_errors.ConnectTimeoutError):
                return f"cannot reach the API server at {where}: no answer within {self.timeout:g} s", True
            if isinstance(cause, (urllib3_errors.ReadTimeoutError, socket.timeout, TimeoutError)):
                return f"the API server did not answer within {self.timeout:g} s", True
        for cause in causes:
            if isinstance(cause, ssl.SSLError | urllib3_errors.SSLError):
                return (
                    f"the TLS handshake with {where} failed ({_ssl_reason(cause)}); check that the URL "
                    "is the API server's https:// address"
                ), False
        for cause in causes:
            if isinstance(cause, urllib3_errors.ProtocolError | ConnectionResetError):
                return f"the API server at {where} closed the connection without answering", False
            if isinstance(cause, OSError) and cause.strerror:
                return f"cannot reach the API server at {where}: {cause.strerror.lower()}", False
        return f"cannot read from the API server at {where} ({type(exc).__name__})", False

    def _verify_reason(self, error: ssl.SSLCertVerificationError, host: str) -> str:
        code = getattr(error, "verify_code", None)
        if code in (62, 64):  # host name or IP address mismatch
            name = self.connection.tls_server_name or host
            return f"the server's certificate is not valid for {name!r} (check the URL or tls-server-name)"
        reason = _VERIFY_REASONS.get(code)
        if reason and code in (19, 20, 21) and not self.connection.ca_pem:
            reason = "the server's certificate is not signed by a CA Rampart trusts (no CA bundle was given)"
        if reason:
            return reason
        return _clip(getattr(error, "verify_message", None) or _ssl_reason(error))


def _seconds(retry_after: str | None) -> int | None:
    # Kubernetes sends whole seconds; an HTTP date or anything else is ignored, as client-go does.
    text = (retry_after or "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _retry_wait(response: Response) -> float | None:
    """How long to wait before asking again, or None when the answer is final."""
    if response.status == 429:
        return DEFAULT_RETRY_WAIT if response.retry_after is None else float(response.retry_after)
    if response.status >= 500 and response.retry_after is not None:
        return float(response.retry_after)
    return None


def _is_transient(exc: BaseException) -> bool:
    return any(
        isinstance(cause, ConnectionRefusedError | ConnectionResetError | urllib3_errors.ProtocolError)
        for cause in _causes(exc)
    )


def describe_status(response: Response) -> str:
    """``403 Forbidden: pods is forbidden: User ... cannot list ...`` from a Status body (or the raw text)."""
    message = ""
    reason = ""
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and body.get("kind") == "Status":
        message = str(body.get("message") or "")
        reason = str(body.get("reason") or "")
    elif response.body:
        message = response.body[:200].decode("utf-8", "replace")
    phrase = _HTTP_PHRASES.get(response.status) or reason or "error"
    text = f"{response.status} {phrase}" + (f": {message}" if message else "")
    return _clip(text)


_HTTP_PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _causes(exc: BaseException):
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [getattr(current, "reason", None), current.__cause__, current.__context__, *current.args]
        pending.extend(item for item in linked if isinstance(item, BaseException))


def _ssl_reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    if isinstance(reason, str) and reason:
        return reason.replace("_", " ").lower()
    return _clip(str(error)) or type(error).__name__


def _clip(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"
