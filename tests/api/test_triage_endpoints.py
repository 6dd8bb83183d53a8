from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from findings.models import Comment, Finding, FindingEvent
from tests.api.helpers import assert_error, make_findings

pytestmark = pytest.mark.django_db


@pytest.fixture
def finding(cluster):
    return make_findings(cluster, 1)[0]


def _url(finding, action):
    return f"/api/v1/findings/{finding.pk}/{action}/"


def test_an_engineer_acknowledges_and_reopens_a_finding_with_history(api, engineer, finding):
    client = api(engineer)
    response = client.post(_url(finding, "acknowledge"), {"reason": "looking"})
    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    assert client.post(_url(finding, "reopen")).json()["status"] == "open"
    history = client.get(_url(finding, "history")).json()["results"]
    assert [(row["from_value"], row["to_value"], row["actor"]) for row in history] == [
        ("acknowledged", "open", "erin"),
        ("open", "acknowledged", "erin"),
    ]


def test_accepting_a_risk_needs_a_reason_and_a_future_expiry(api, engineer, finding):
    client = api(engineer)
    until = (timezone.now() + timedelta(days=30)).isoformat()
    assert (
        "reason" in assert_error(client.post(_url(finding, "accept-risk"), {"until": until}), 400)["fields"]
    )
    past = (timezone.now() - timedelta(days=1)).isoformat()
    error = assert_error(client.post(_url(finding, "accept-risk"), {"reason": "legacy", "until": past}), 400)
    assert "until" in error["fields"]
    far = (timezone.now() + timedelta(days=5000)).isoformat()
    assert_error(
        client.post(_url(finding, "accept-risk"), {"reason": "legacy", "until": far}), 400, "invalid"
    )
    accepted = client.post(_url(finding, "accept-risk"), {"reason": "legacy app", "until": until}).json()
    assert accepted["status"] == "risk_accepted"
    assert accepted["status_reason"] == "legacy app"
    assert accepted["risk_accepted_until"]


def test_a_false_positive_needs_a_reason(api, engineer, finding):
    client = api(engineer)
    assert_error(client.post(_url(finding, "false-positive"), {}), 400, "invalid")
    assert client.post(_url(finding, "false-positive"), {"reason": "test cluster"}).json()["status"] == (
        "false_positive"
    )


def test_a_transition_the_table_refuses_is_a_conflict(api, engineer, finding):
    error = assert_error(api(engineer).post(_url(finding, "reopen")), 409, "conflict")
    assert "cannot become open" in error["message"]
    Finding.objects.filter(pk=finding.pk).update(status="resolved")
    assert_error(api(engineer).post(_url(finding, "acknowledge")), 409, "conflict")


def test_an_engineer_assigns_to_a_team_member_and_unassigns(api, engineer, viewer, outsider, finding):
    client = api(engineer)
    assert client.post(_url(finding, "assign"), {"assignee": "vera"}).json()["assignee"] == "vera"
    assert (
        "assignee" in assert_error(client.post(_url(finding, "assign"), {"assignee": "otto"}), 400)["fields"]
    )
    assert_error(client.post(_url(finding, "assign"), {"assignee": "nobody"}), 400, "invalid")
    assert client.post(_url(finding, "assign"), {"assignee": None}).json()["assignee"] is None
    assert FindingEvent.objects.filter(finding=finding, action="assigned").count() == 2


def test_an_engineer_comments_and_everyone_in_the_team_reads_it(api, engineer, viewer, finding):
    created = api(engineer).post(_url(finding, "comments"), {"body": "<script>alert(1)</script> on it"})
    assert created.status_code == 201
    assert created.json()["author"] == "erin"
    listed = api(viewer).get(_url(finding, "comments")).json()["results"]
    assert [row["body"] for row in listed] == ["<script>alert(1)</script> on it"]
    assert api(viewer).get("/api/v1/comments/", {"finding": finding.pk}).json()["count"] == 1
    top = api(engineer).post("/api/v1/comments/", {"finding": finding.pk, "body": "second"})
    assert top.status_code == 201
    assert_error(api(engineer).post(_url(finding, "comments"), {"body": "   "}), 400, "invalid")
    assert_error(api(engineer).post(_url(finding, "comments"), {"body": "x" * 10_001}), 400, "invalid")


def test_viewers_read_but_never_triage(api, viewer, finding):
    client = api(viewer)
    assert client.get(f"/api/v1/findings/{finding.pk}/").status_code == 200
    for action, body in [
        ("acknowledge", {}),
        ("false-positive", {"reason": "x"}),
        ("assign", {"assignee": "vera"}),
        ("comments", {"body": "hi"}),
    ]:
        assert_error(client.post(_url(finding, action), body), 403, "permission_denied")
    assert_error(client.post("/api/v1/comments/", {"finding": finding.pk, "body": "hi"}), 403)
    assert not Comment.objects.exists()
    assert Finding.objects.get(pk=finding.pk).status == "open"


def test_a_read_only_token_of_an_engineer_cannot_triage(api, engineer, finding):
    readonly = api(engineer, scope=ApiToken.Scope.READ)
    assert_error(readonly.post(_url(finding, "acknowledge")), 403, "permission_denied")
    assert Finding.objects.get(pk=finding.pk).status == "open"


def test_another_teams_finding_cannot_be_triaged_or_commented(api, outsider, finding):
    for action in ("acknowledge", "comments", "history"):
        assert_error(api(outsider).post(_url(finding, action)), 404 if action != "history" else 405)
    assert_error(api(outsider).get(_url(finding, "history")), 404)
    assert_error(
        api(outsider).post("/api/v1/comments/", {"finding": finding.pk, "body": "hi"}), 400, "invalid"
    )
