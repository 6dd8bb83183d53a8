"""What both schema-driven suites check on every answer, and the schema they read it from."""

import schemathesis

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


def load_schema():
    """The served OpenAPI schema, requested in-process (the schema view needs no database)."""
    from posture.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application)
