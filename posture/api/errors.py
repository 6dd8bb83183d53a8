"""One error format for the whole API: {"error": {"code", "message", "fields"?}}.

Never includes internal detail; unexpected exceptions become a plain 500 with
a message, and the traceback goes only to the logs.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from posture.request_id import current_request_id

logger = logging.getLogger(__name__)


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        logger.error("unhandled API error", exc_info=exc)
        return Response(
            {
                "error": {
                    "code": "server_error",
                    "message": "Internal error. It has been logged.",
                    # What to quote in a report: the same id is in the logs and the X-Request-ID header.
                    "request_id": current_request_id(),
                }
            },
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    body = {"code": getattr(exc, "default_code", "error"), "message": _message(exc)}
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, dict):
        body["code"] = "invalid"
        body["message"] = "Some fields are invalid."
        body["fields"] = exc.detail
    response.data = {"error": body}
    return response


def _message(exc) -> str:
    detail = getattr(exc, "detail", None)
    if isinstance(detail, list):
        return " ".join(str(item) for item in detail)
    if isinstance(detail, dict):
        return "Some fields are invalid."
    return str(detail) if detail else "Error."
