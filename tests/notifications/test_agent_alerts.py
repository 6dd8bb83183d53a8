"""The daily agent.attention message: Rampart cannot reach an agent cluster, so an agent that stopped
pushing, or whose token is about to run out, is news only a message brings."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from posture.models import IngestToken, Snapshot
from posture.notifications import send_agent_alerts
from tests.factories import make_cluster

pytestmark = pytest.mark.django_db


def _agent_cluster(team, name, *, last_push_hours_ago: float | None, token_expires_in=None):
    cluster = make_cluster(team, name=name, connection_mode="agent")
    if last_push_hours_ago is not None:
        snapshot = Snapshot.objects.create(
            cluster=cluster, source=Snapshot.Source.AGENT, content=b"{}", sha256="0" * 64, size=2
        )
        pushed = timezone.now() - timedelta(hours=last_push_hours_ago)
        Snapshot.objects.filter(pk=snapshot.pk).update(uploaded_at=pushed)
    expires_at = timezone.now() + token_expires_in if token_expires_in else None
    IngestToken.issue(cluster, "cronjob", expires_at=expires_at)
    return cluster


def _send(capture, now=None) -> int:
    with capture(execute=True):
        return send_agent_alerts(now)


@override_settings(RAMPART_AGENT_SILENT_HOURS=24)
def test_one_message_a_day_names_the_silent_agent_and_the_expiring_token(
    receiver, webhook, team, django_capture_on_commit_callbacks
):
    silent = _agent_cluster(team, "edge-silent", last_push_hours_ago=72)
    expiring = _agent_cluster(
        team, "edge-expiring", last_push_hours_ago=1, token_expires_in=timedelta(days=5)
    )
    _agent_cluster(team, "edge-fine", last_push_hours_ago=1, token_expires_in=timedelta(days=200))

    assert _send(django_capture_on_commit_callbacks) == 1
    assert _send(django_capture_on_commit_callbacks) == 0  # the same day again: nothing new

    assert len(receiver.requests) == 1
    payload = receiver.json(0)
    assert payload["event"] == "agent.attention"
    assert receiver.requests[0]["headers"]["X-Rampart-Event"] == "agent.attention"
    by_name = {cluster["cluster"]: cluster for cluster in payload["clusters"]}
    assert set(by_name) == {"edge-expiring", "edge-silent"}
    assert by_name["edge-silent"]["silent_for"] == "3\xa0days"
    assert by_name["edge-silent"]["token"] is None
    assert by_name["edge-silent"]["id"] == silent.pk
    assert by_name["edge-expiring"]["silent_for"] is None
    token = IngestToken.objects.get(cluster=expiring)
    assert by_name["edge-expiring"]["token"] == {
        "name": "cronjob",
        "expires_at": token.expires_at.isoformat(),
    }


def test_no_message_while_every_agent_pushes_and_its_token_lasts(
    receiver, webhook, team, django_capture_on_commit_callbacks
):
    _agent_cluster(team, "edge", last_push_hours_ago=1)

    assert _send(django_capture_on_commit_callbacks) == 0
    assert receiver.requests == []


def test_a_paused_cluster_and_a_live_cluster_are_left_out(
    receiver, webhook, team, django_capture_on_commit_callbacks
):
    paused = _agent_cluster(team, "edge-paused", last_push_hours_ago=100, token_expires_in=timedelta(days=2))
    paused.paused_at = timezone.now()
    paused.save(update_fields=["paused_at"])
    make_cluster(team, name="live", connection_mode="token")

    assert _send(django_capture_on_commit_callbacks) == 0


def test_an_endpoint_that_did_not_ask_for_it_is_not_told(
    receiver, webhook, team, django_capture_on_commit_callbacks
):
    webhook.events = ["digest.overdue"]
    webhook.save()
    _agent_cluster(team, "edge", last_push_hours_ago=100)

    assert _send(django_capture_on_commit_callbacks) == 0


def test_another_teams_agents_are_not_in_the_message(
    receiver, webhook, team, other_team, django_capture_on_commit_callbacks
):
    _agent_cluster(other_team, "their-edge", last_push_hours_ago=100)
    _agent_cluster(team, "our-edge", last_push_hours_ago=100)

    assert _send(django_capture_on_commit_callbacks) == 1
    assert [cluster["cluster"] for cluster in receiver.json(0)["clusters"]] == ["our-edge"]


def test_slack_gets_one_line_per_cluster(receiver, slack, team, django_capture_on_commit_callbacks):
    _agent_cluster(team, "edge", last_push_hours_ago=50, token_expires_in=timedelta(days=3))

    assert _send(django_capture_on_commit_callbacks) == 1

    text = receiver.json(0)["text"]
    expires = IngestToken.objects.get().expires_at.date().isoformat()
    assert text.splitlines()[0] == "*Agents of Payments that need attention*"
    assert f"• edge: no push for 2\xa0days; ingest token “cronjob” expires {expires}" in text


@override_settings(RAMPART_AGENT_SILENT_HOURS=24)
def test_an_agent_that_never_pushed_is_named_a_day_after_its_token_was_issued(
    receiver, slack, team, django_capture_on_commit_callbacks
):
    cluster = _agent_cluster(team, "edge-new", last_push_hours_ago=None)
    issued = IngestToken.objects.get(cluster=cluster).created_at

    assert _send(django_capture_on_commit_callbacks, now=issued + timedelta(hours=23)) == 0
    assert _send(django_capture_on_commit_callbacks, now=issued + timedelta(days=2, hours=1)) == 1

    assert "• edge-new: no push yet, 2\xa0days after its first token was issued" in receiver.json(0)["text"]
