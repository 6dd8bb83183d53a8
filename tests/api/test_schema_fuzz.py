"""A bounded schema-driven fuzz run: Schemathesis generates requests for every operation in
/api/schema/ and sends them to the WSGI app with a real read-write token of a team admin.

No request may cause a 500, and every response must match the schema: its status codes,
content types and bodies. ``RAMPART_FUZZ_EXAMPLES`` sets the examples per operation
(default 8: the whole run takes well under a minute; CI may raise it).
"""

import os

import pytest
from hypothesis import HealthCheck, settings

from accounts.models import Role
from tests.api.helpers import token_for
from tests.api.schema_checks import CHECKS, load_schema
from tests.factories import as_yaml, deployment, make_user, scan_snapshot

EXAMPLES = int(os.environ.get("RAMPART_FUZZ_EXAMPLES", "8"))


schema = load_schema()  # at collection: the schema view needs no database


@pytest.fixture(autouse=True)
def _wsgi(wsgi_requests):
    pass


@pytest.fixture
def fuzz_token(cluster, team):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True), deployment("api")))
    admin = make_user(team, Role.ADMIN, username="fuzz-admin")
    return token_for(admin)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_generated_request_causes_a_server_error_or_a_schema_violation(case, fuzz_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_token}"}, checks=CHECKS)
