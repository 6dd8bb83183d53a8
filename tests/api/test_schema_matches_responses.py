"""Every read the schema documents, answered from data full of nulls, matches the schema.

The fuzz test (test_schema_fuzz.py) reads a freshly scanned world, where nearly every optional
value is set. Here the clusters, scans, findings, comments, rules, tokens and deliveries are the
kind that leave fields empty: a cluster never scanned, a queued scan, a system event, a comment
whose author was deleted, a team-wide rule, a token never used, a delivery never attempted. A
field that can be null but is documented as never null fails here.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiToken, Role
from findings.models import Comment, ExceptionRule, FindingEvent
from posture.models import IngestToken, NotificationAttempt, NotificationDelivery, NotificationEndpoint, Scan
from tests.api.helpers import make_findings, token_for
from tests.api.schema_checks import CHECKS, load_schema
from tests.factories import as_yaml, deployment, make_cluster, make_user, scan_snapshot

schema = load_schema()


@pytest.fixture
def world(wsgi_requests, team, cluster):
    """Ids of objects whose optional fields are empty, by the name of the path they are read at."""
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    never_scanned = make_cluster(team, name="never-scanned")
    queued = Scan.objects.create(cluster=never_scanned, status="queued", created_at=timezone.now())
    admin = make_user(team, Role.ADMIN, username="reader")
    gone = make_user(team, Role.ENGINEER, username="gone")
    finding = make_findings(never_scanned, 1, due_at=None)[0]
    comment = Comment.objects.create(finding=finding, author=gone, body="the author left")
    event = FindingEvent.objects.create(finding=finding, at=timezone.now(), action="status", to_value="open")
    rule = ExceptionRule.objects.create(
        team=team, reason="lab", owner=admin, created_by=gone, expires_at=timezone.now() + timedelta(days=9)
    )
    gone.delete()  # the comment's author and the rule's creator become null
    IngestToken.issue(never_scanned, "agent")
    endpoint = NotificationEndpoint(team=team, name="pager")
    endpoint.set_url("https://hooks.example.test/rampart")
    endpoint.save()
    delivery = NotificationDelivery.objects.create(endpoint=endpoint, event="scan.failed", dedupe_key="x")
    NotificationAttempt.objects.create(delivery=delivery, number=1, at=timezone.now(), error="refused")
    raw = token_for(admin)
    return {
        "token": raw,
        "ids": {
            "clusters": never_scanned.pk,
            "scans": queued.pk,
            "findings": finding.pk,
            "checks": "privileged-container",
            "exceptions": rule.pk,
            "comments": comment.pk,
            "history": event.pk,
            "tokens": ApiToken.objects.get(user=admin).pk,
            "notification-endpoints": endpoint.pk,
            "notification-deliveries": delivery.pk,
            "teams": team.slug,
        },
    }


def _reads():
    for path, methods in schema.raw_schema["paths"].items():
        if "get" in methods:
            yield path


@pytest.mark.parametrize("path", list(_reads()))
def test_every_documented_read_matches_the_schema_when_fields_are_empty(world, path):
    ids = world["ids"]
    collection = path.removeprefix("/api/v1/").split("/")[0]
    path_parameters = {"id": ids[collection]} if "{id}" in path else {}
    if "{slug}" in path:
        path_parameters = {"slug": ids[collection]}
    case = schema[path]["GET"].Case(path_parameters=path_parameters, query={})
    response = case.call_and_validate(headers={"Authorization": f"Bearer {world['token']}"}, checks=CHECKS)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
