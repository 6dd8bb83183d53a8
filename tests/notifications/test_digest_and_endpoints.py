from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from posture.models import NotificationDelivery, NotificationEndpoint
from posture.notifications import send_overdue_digests
from posture.notifications.delivery import Undeliverable, check_url
from tests.api.helpers import Api, assert_error, make_findings, token_for
from tests.webhooks import SECRET

pytestmark = pytest.mark.django_db


def test_the_daily_digest_is_one_message_per_team_and_day(
    receiver, webhook, cluster, django_capture_on_commit_callbacks
):
    make_findings(cluster, 40, due_at=timezone.now() - timedelta(days=2))
    make_findings(cluster, 5)  # not overdue
    with django_capture_on_commit_callbacks(execute=True):
        assert send_overdue_digests() == 1
        assert send_overdue_digests() == 0  # the same day again: nothing new
    assert len(receiver.requests) == 1
    payload = receiver.json(0)
    assert payload["event"] == "digest.overdue"
    assert payload["overdue_total"] == 40
    assert payload["clusters"] == [{"cluster": "prod-eu", "id": cluster.pk, "overdue": 40}]
    assert len(payload["oldest"]) == 10


def test_no_digest_without_overdue_findings(receiver, webhook, cluster, django_capture_on_commit_callbacks):
    make_findings(cluster, 3)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_overdue_digests() == 0
    assert receiver.requests == []


def test_an_endpoint_can_subscribe_to_some_events_only(
    receiver, webhook, cluster, django_capture_on_commit_callbacks
):
    webhook.events = ["scan.failed"]
    webhook.save()
    make_findings(cluster, 2, due_at=timezone.now() - timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_overdue_digests() == 0


def test_webhooks_to_private_and_loopback_addresses_are_refused_by_default():
    with override_settings(RAMPART_NOTIFICATION_ALLOW_PRIVATE=False):
        for url in (
            "http://127.0.0.1/x",
            "http://10.0.0.5/",
            "http://169.254.169.254/latest",
            "http://[::1]/",
        ):
            with pytest.raises(Undeliverable):
                check_url(url)
    for url in ("ftp://example.com/", "http://user:pw@example.com/", "javascript:alert(1)"):
        with pytest.raises(Undeliverable):
            check_url(url)


def test_a_refused_address_fails_the_delivery_without_retrying(
    team, cluster, django_capture_on_commit_callbacks
):
    endpoint = NotificationEndpoint(team=team, name="metadata")
    endpoint.set_url("http://169.254.169.254/latest/meta-data")
    endpoint.save()
    make_findings(cluster, 1, due_at=timezone.now() - timedelta(days=1))
    with (
        override_settings(RAMPART_NOTIFICATION_ALLOW_PRIVATE=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_overdue_digests()
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.attempts == 1
    assert "private" in delivery.error


def test_url_and_secret_are_stored_encrypted(webhook, receiver):
    webhook.refresh_from_db()
    assert receiver.url not in webhook.url_encrypted
    assert SECRET not in webhook.secret_encrypted
    assert webhook.get_url() == receiver.url
    assert webhook.url_host == "127.0.0.1"


def test_team_admins_manage_endpoints_over_the_api_and_never_see_url_or_secret(
    client, admin_user, engineer, outsider, receiver
):
    admin = Api(client, token_for(admin_user))
    created = admin.post(
        "/api/v1/notification-endpoints/",
        {
            "team": "payments",
            "name": "hooks",
            "url": receiver.url,
            "secret": SECRET,
            "events": ["scan.failed"],
        },
    )
    assert created.status_code == 201, created.json()
    text = created.content.decode()
    assert receiver.url not in text
    assert SECRET not in text
    assert created.json()["has_secret"] is True
    endpoint_id = created.json()["id"]
    assert admin.get(f"/api/v1/notification-endpoints/{endpoint_id}/").json()["url_host"] == "127.0.0.1"
    assert admin.get("/api/v1/notification-deliveries/").json()["count"] == 0
    for other in (engineer, outsider):
        client_other = Api(client, token_for(other))
        assert client_other.get("/api/v1/notification-endpoints/").json()["count"] == 0
        assert_error(client_other.get(f"/api/v1/notification-endpoints/{endpoint_id}/"), 404)
    assert_error(
        Api(client, token_for(engineer)).post(
            "/api/v1/notification-endpoints/", {"team": "payments", "name": "x", "url": receiver.url}
        ),
        403,
    )


def test_the_delivery_log_is_in_the_django_admin_for_staff(
    client, django_user_model, receiver, webhook, cluster, django_capture_on_commit_callbacks
):
    make_findings(cluster, 1, due_at=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        send_overdue_digests()
    staff = django_user_model.objects.create_superuser("root", "root@example.com", "x" * 16)
    client.force_login(staff)
    page = client.get("/admin/posture/notificationdelivery/")
    assert page.status_code == 200
    assert "digest.overdue" in page.content.decode()
    delivery = NotificationDelivery.objects.get()
    detail = client.get(f"/admin/posture/notificationdelivery/{delivery.pk}/change/").content.decode()
    assert "200" in detail
    endpoint_page = client.get(f"/admin/posture/notificationendpoint/{webhook.pk}/change/").content.decode()
    assert SECRET not in endpoint_page
    assert receiver.url not in endpoint_page


def test_an_admin_changes_and_deletes_an_endpoint_keeping_the_stored_secret(
    client, admin_user, webhook, receiver
):
    admin = Api(client, token_for(admin_user))
    changed = admin.patch(
        f"/api/v1/notification-endpoints/{webhook.pk}/", {"enabled": False, "name": "siem-2"}
    )
    assert changed.status_code == 200, changed.json()
    webhook.refresh_from_db()
    assert webhook.enabled is False
    assert webhook.get_secret() == SECRET
    assert webhook.get_url() == receiver.url
    assert_error(admin.patch(f"/api/v1/notification-endpoints/{webhook.pk}/", {"team": "search"}), 400)
    assert admin.delete(f"/api/v1/notification-endpoints/{webhook.pk}/").status_code == 204
    assert not NotificationEndpoint.objects.exists()


def test_viewers_engineers_and_other_teams_cannot_change_endpoints_or_read_the_log(
    client, viewer, engineer, outsider, webhook
):
    for user in (viewer, engineer, outsider):
        other = Api(client, token_for(user))
        assert_error(other.patch(f"/api/v1/notification-endpoints/{webhook.pk}/", {"enabled": False}), 404)
        assert_error(other.delete(f"/api/v1/notification-endpoints/{webhook.pk}/"), 404)
        assert other.get("/api/v1/notification-deliveries/").json()["count"] == 0
    webhook.refresh_from_db()
    assert webhook.enabled is True
