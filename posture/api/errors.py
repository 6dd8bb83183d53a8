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

from posture.api.exceptions import Conflict, PayloadTooLarge
from posture.request_id import current_request_id

__all__ = ["Conflict", "PayloadTooLarge", "api_exception_handler", "error_body"]

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def _translate(exc):
    """Domain refusals (their messages are written for users) into API errors."""
    from django.core.exceptions import RequestDataTooBig

    from accounts.teams import MembershipConflict, MembershipRefused
    from findings.services import Refused
    from findings.triage import TransitionRefused
    from posture.services import ClusterNameTaken

    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, TransitionRefused):
        return Conflict(_sentence(str(exc)))
    if isinstance(exc, Refused):  # under the field it concerns, as the serializers' own refusals are
        message = _sentence(str(exc))
        return exceptions.ValidationError({exc.field: [message]} if exc.field else message)
    if isinstance(exc, MembershipConflict):  # the team as it is: already a member, its last admin
        return Conflict(_sentence(str(exc)))
    if isinstance(exc, MembershipRefused):
        message = _sentence(str(exc))
        return exceptions.ValidationError({exc.field: [message]} if exc.field else message)
    if isinstance(exc, ClusterNameTaken):  # taken by a request at the same moment
        return exceptions.ValidationError({"name": [str(exc)]})
    return exc


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")) if text else "Error."


def api_exception_handler(exc, context):
    exc = _translate(exc)
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
