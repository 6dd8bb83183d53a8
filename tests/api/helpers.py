"""Helpers for API tests: a client that speaks with a personal token, bulk findings, the error format."""

import itertools
from datetime import timedelta

from django.utils import timezone

from accounts.models import ApiToken
from findings.models import Finding

_serial = itertools.count(1)


class Api:
    """Requests with ``Authorization: Bearer <token>`` (or none, for anonymous)."""

    def __init__(self, client, raw_token: str | None = None, **extra_headers):
        self.client = client
        self.headers = {"Authorization": f"Bearer {raw_token}"} if raw_token else {}
        self.headers.update(extra_headers)

    def get(self, path, params=None, **headers):
        return self.client.get(path, params or {}, headers={**self.headers, **headers})

    def post(self, path, data=None, **headers):
        return self.client.post(
            path,
            data if data is not None else {},
            content_type="application/json",
            headers={**self.headers, **headers},
        )

    def patch(self, path, data=None):
        return self.client.patch(path, data or {}, content_type="application/json", headers=self.headers)

    def put(self, path, data=None):
        return self.client.put(path, data or {}, content_type="application/json", headers=self.headers)

    def delete(self, path):
        return self.client.delete(path, headers=self.headers)


def token_for(user, scope=ApiToken.Scope.WRITE) -> str:
    _, raw = ApiToken.issue(user, f"test-{next(_serial)}", scope=scope)
    return raw


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error format: {"error": {"code", "message", ...}} and nothing else."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str)
    assert isinstance(body["error"]["message"], str)
    if code is not None:
        assert body["error"]["code"] == code, body
    text = response.content.decode()
    assert "Traceback" not in text
    assert 'File "' not in text
    return body["error"]


def make_findings(
    cluster, count: int, *, severity="high", status="open", check_id="privileged-container", **fields
):
    """Many findings at once, without a scan (bulk_create)."""
    now = timezone.now()
    start = next(_serial) * 1_000_000
    rows = [
        Finding(
            cluster=cluster,
            fingerprint=f"fp-{start + index}",
            check_id=check_id,
            severity=severity,
            category="workload",
            kind="Deployment",
            namespace=fields.get("namespace", "shop"),
            name=f"{fields.get('name', 'app')}-{start + index}",
            message="runs privileged",
            status=status,
            first_seen_at=now - timedelta(days=3),
            last_seen_at=now,
            due_at=fields.get("due_at", now + timedelta(days=7)),
        )
        for index in range(count)
    ]
    return Finding.objects.bulk_create(rows, batch_size=2000)
