"""Request ids: one per request, in the response header, the logs, the audit log and error pages.

A user who hits an error quotes the id shown on the page; an operator greps the
logs for it. The id and the client's address live in a context variable for the
length of the request, so that code far from the view (services, the audit log,
logging) can read them without being handed the request.
"""

import contextvars
import ipaddress
import logging
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)

HEADER = "X-Request-ID"
# Accept a caller's id (a proxy or load balancer that already made one) only if
# it is short and plain: it goes into logs and HTML, so nothing that could forge
# a log line or need escaping.
_SANE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "rampart_request", default=None
)


def current() -> RequestContext | None:
    """The request being served in this thread or task, if any."""
    return _current.get()


def current_request_id() -> str | None:
    ctx = _current.get()
    return ctx.request_id if ctx else None


def client_ip(request) -> str | None:
    """The client's address, honouring exactly RAMPART_PROXY_HOPS proxies in front.

    Each trusted proxy appends the address it saw to X-Forwarded-For, so the
    client is the entry that many places from the right; anything further left
    was written by the client and is not trusted.
    """
    hops = getattr(settings, "RAMPART_PROXY_HOPS", 0)
    candidate = request.META.get("REMOTE_ADDR")
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate)) if candidate else None
    except ValueError:
        return None


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that every response, even a redirect or an error, carries the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(RequestContext(request_id=request_id, ip=client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response.headers[HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Adds ``request_id`` to every log record ("-" outside a request: tasks, commands)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            # django.request logs 4xx responses after the middleware has
            # returned, but hands the request along in the record.
            request = getattr(record, "request", None)
            record.request_id = current_request_id() or getattr(request, "request_id", None) or "-"
        return True


class ClientErrorTracebackFilter(logging.Filter):
    """A refused request (403 and other 4xx) is logged in one line: Django attaches the traceback of
    the PermissionDenied it caught, which is no news and buries real errors in the log."""

    def filter(self, record):
        if record.name == "django.request" and getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


# --- Error pages ----------------------------------------------------------------
# They show the request id to quote and nothing else: no exception text, no
# path echo beyond what the user typed, never a traceback.


def _request_id_of(request) -> str:
    return getattr(request, "request_id", None) or current_request_id() or "-"


def _render(request, template_name: str, status: int) -> HttpResponse:
    body = loader.render_to_string(template_name, {"request_id": _request_id_of(request)}, request)
    return HttpResponse(body, status=status)


@requires_csrf_token
def bad_request(request, exception=None):
    return _render(request, "400.html", 400)


@requires_csrf_token
def permission_denied(request, exception=None):
    return _render(request, "403.html", 403)


@requires_csrf_token
def page_not_found(request, exception=None):
    return _render(request, "404.html", 404)


@requires_csrf_token
def server_error(request):
    # Rendered without the request: context processors may be what failed (the
    # database for the session user, say). If even the template fails, a plain
    # line with the id still goes out.
    request_id = _request_id_of(request)
    try:
        body = loader.get_template("500.html").render({"request_id": request_id})
    except Exception:
        logger.exception("the 500 page itself failed to render")
        body = f"Internal error. Quote request id {request_id} when you report it.\n"
        return HttpResponseServerError(body, content_type="text/plain; charset=utf-8")
    return HttpResponseServerError(body)
