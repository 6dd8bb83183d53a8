"""OpenAPI details drf-spectacular cannot infer: the token schemes and the one error format."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import get_lib_doc_excludes

from posture.scanning.checks.registry import Category, Severity

SEVERITY_CHOICES = [(severity.value, severity.value.title()) for severity in Severity]
CATEGORY_CHOICES = [(category.value, Category.label_of(category.value)) for category in Category]

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error of the API has this shape; never internal detail.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "example": "not_found"},
                "message": {"type": "string", "example": "Not found."},
                "fields": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "Per-field problems, for code 'invalid'.",
                },
                "request_id": {"type": "string", "description": "For code 'server_error': quote it."},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}

_ERROR_RESPONSES = {
    "400": "Invalid input",
    "401": "Not authenticated, or the token is invalid, expired or revoked",
    "403": "Not allowed (role, or a read-only token)",
    "404": "Not found, or another team's",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "409": "Conflict with the object's current state",
    "413": "Request body too large",
    "415": "Unsupported media type",
    "429": "Too many requests",
    "500": "Internal error (logged; quote the request id)",
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "rpt_<id>_<secret>",
            "description": "A personal API token, read-only or read-write.",
        }


class IngestTokenScheme(OpenApiAuthenticationExtension):
    target_class = "posture.api.agents.IngestTokenAuthentication"
    name = "ingestToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "rpi_<id>_<secret>",
            "description": "A cluster's ingest token: may only push snapshots of that one cluster.",
        }


def add_error_responses(result, generator, request, public):
    """Document the error format once and reference it from every operation's error responses."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():  # an operation's own errors (a description alone)
                if code.startswith(("4", "5")) and "content" not in response:
                    response["content"] = _error_content()
            for code, description in _ERROR_RESPONSES.items():
                if code in responses:
                    continue
                if method == "get" and code in ("409", "413", "415"):
                    continue
                responses[code] = {"description": description, "content": _error_content()}
    return result


def _error_content() -> dict:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def docstrings_not_for_clients() -> list[type]:
    """Classes whose docstrings explain Rampart's internals, never an endpoint.

    drf-spectacular describes an operation by the first docstring along the view's bases, so a
    view without its own showed ThrottleFirstMixin's ("Throttle before authentication...") in
    /api/docs/. It stops at any class listed here (DRF's own are listed by default).
    """
    from posture.api.throttling import ThrottleFirstMixin

    return [*get_lib_doc_excludes(), ThrottleFirstMixin]
