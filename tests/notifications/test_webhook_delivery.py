"""Webhooks delivered to a local receiver: signed, retried after a 500, logged, one message per scan."""

import pytest

from posture.models import NotificationDelivery
from posture.notifications.delivery import verify
from posture.notifications.tasks import IN_PROCESS
from tests.factories import as_yaml, deployment, make_cluster, scan_snapshot
from tests.webhooks import SECRET

pytestmark = pytest.mark.django_db


def _scan(cluster, django_capture_on_commit_callbacks, *objects):
    with django_capture_on_commit_callbacks(execute=True):
        return scan_snapshot(cluster, as_yaml(*objects))


def test_a_scan_with_new_critical_findings_sends_one_signed_message(
    receiver, webhook, cluster, django_capture_on_commit_callbacks
):
    workloads = [deployment(f"web-{n}", privileged=True) for n in range(5)]
    scan = _scan(cluster, django_capture_on_commit_callbacks, *workloads)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers = {name.lower(): value for name, value in request["headers"].items()}
    assert headers["x-rampart-event"] == "findings.new"
    assert verify(SECRET, headers["x-rampart-timestamp"], request["body"], headers["x-rampart-signature"])
    assert not verify(
        "wrong-secret", headers["x-rampart-timestamp"], request["body"], headers["x-rampart-signature"]
    )
    payload = receiver.json(0)
    assert payload["scan"]["id"] == scan.pk
    assert payload["cluster"]["name"] == "prod-eu"
    assert payload["new_by_severity"]["critical"] == 5
    assert payload["new_total"] >= 5


def test_a_first_500_is_retried_and_the_log_records_both_attempts(
    receiver, webhook, cluster, django_capture_on_commit_callbacks
):
    receiver.answers = [500]
    _scan(cluster, django_capture_on_commit_callbacks, deployment("web", privileged=True))
    assert len(receiver.requests) == 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == "delivered"
    assert delivery.attempts == 2
    assert delivery.status_code == 200
    assert [(a.number, a.status_code) for a in delivery.attempt_log.all()] == [(1, 500), (2, 200)]
    assert "500" in delivery.attempt_log.first().error


def test_deliveries_give_up_after_the_last_retry(
    receiver, webhook, cluster, django_capture_on_commit_callbacks
):
    receiver.answers = [500, 502, 503, 504]
    _scan(cluster, django_capture_on_commit_callbacks, deployment("web", privileged=True))
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.attempts == 4
    assert len(receiver.requests) == 4


def test_with_tasks_in_process_a_retry_is_not_fired_at_once_but_the_failure_says_why(
    receiver, webhook, cluster, django_capture_on_commit_callbacks, settings
):
    settings.RAMPART_NOTIFICATION_RETRY_DELAYS = [30, 120]  # the real delays: eager Celery would skip them
    receiver.answers = [503]
    _scan(cluster, django_capture_on_commit_callbacks, deployment("web", privileged=True))
    delivery = NotificationDelivery.objects.get()
    assert len(receiver.requests) == 1
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.error == "the endpoint answered HTTP 503; " + IN_PROCESS


def test_a_client_error_is_not_retried(receiver, webhook, cluster, django_capture_on_commit_callbacks):
    receiver.answers = [410]
    _scan(cluster, django_capture_on_commit_callbacks, deployment("web", privileged=True))
    assert len(receiver.requests) == 1
    assert NotificationDelivery.objects.get().status == "failed"


def test_a_rescan_without_new_findings_sends_nothing_and_a_repeat_call_nothing_twice(
    receiver, webhook, cluster, django_capture_on_commit_callbacks
):
    from posture.notifications import notify_scan_finished

    scan = _scan(cluster, django_capture_on_commit_callbacks, deployment("web", privileged=True))
    with django_capture_on_commit_callbacks(execute=True):
        notify_scan_finished(scan)
    _scan(cluster, django_capture_on_commit_callbacks, deployment("web", privileged=True))
    assert len(receiver.requests) == 1
    assert NotificationDelivery.objects.count() == 1


def test_a_failed_scan_is_announced_without_credentials(
    receiver, webhook, team, django_capture_on_commit_callbacks
):
    from posture import services

    broken = make_cluster(team, name="live", connection_mode="token", api_url="https://127.0.0.1:9")
    broken.set_credentials("token-that-must-not-leak")
    broken.save()
    scan = services.start_scan(broken, enqueue=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.run_scan(scan.pk)
    assert len(receiver.requests) == 1
    body = receiver.requests[0]["body"].decode()
    assert receiver.json(0)["event"] == "scan.failed"
    assert "token-that-must-not-leak" not in body
    assert broken.credentials_encrypted not in body


def test_slack_endpoints_get_one_text_message_and_no_signature(
    receiver, slack, cluster, django_capture_on_commit_callbacks
):
    _scan(
        cluster,
        django_capture_on_commit_callbacks,
        *[deployment(f"w{n}", privileged=True) for n in range(15)],
    )
    assert len(receiver.requests) == 1
    message = receiver.json(0)
    assert "new findings on prod-eu" in message["text"]
    assert "…and" in message["text"]
    assert message["blocks"][0]["type"] == "section"
    assert "x-rampart-signature" not in {name.lower() for name in receiver.requests[0]["headers"]}


def test_endpoints_of_other_teams_and_disabled_ones_hear_nothing(
    receiver, webhook, other_team, cluster, django_capture_on_commit_callbacks
):
    webhook.team = other_team
    webhook.save()
    _scan(cluster, django_capture_on_commit_callbacks, deployment("web", privileged=True))
    assert receiver.requests == []
