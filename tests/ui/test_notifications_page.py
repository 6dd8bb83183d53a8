"""The Notifications page: a team admin sets up webhooks without the API or the Django admin."""

import re

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from posture.models import NotificationDelivery, NotificationEndpoint, NotificationEvent
from posture.notifications import notify_scan_finished
from tests.factories import as_yaml, deployment, scan_snapshot
from tests.webhooks import SECRET

pytestmark = pytest.mark.django_db

PAGE = reverse("notifications:list")


def _add(client, team, url, **fields):
    form = {"name": "SIEM", "team": team.pk, "kind": "webhook", "url": url, "enabled": "on", **fields}
    return client.post(PAGE, form, follow=True)


def test_an_admin_adds_a_signed_webhook_and_never_sees_its_url_or_secret_again(
    client, admin_user, team, receiver
):
    client.force_login(admin_user)
    page = _add(client, team, receiver.url, secret=SECRET, events=["scan.failed"]).text
    assert "Endpoint “SIEM” added: Payments is notified at 127.0.0.1." in page
    endpoint = NotificationEndpoint.objects.get()
    assert endpoint.get_url() == receiver.url
    assert endpoint.get_secret() == SECRET
    assert endpoint.events == ["scan.failed"]
    for shown in (page, client.get(reverse("notifications:edit", args=[endpoint.pk])).text):
        assert receiver.url not in shown
        assert SECRET not in shown
    assert "Scan failed" in page  # the events in words
    event = AuditEvent.objects.get(action="notification_endpoint.created")
    assert event.actor == admin_user
    assert receiver.url not in str(event.details)
    assert SECRET not in str(event.details)


def test_a_webhook_to_a_private_address_is_refused_with_the_reason(client, admin_user, team):
    client.force_login(admin_user)
    response = client.post(
        PAGE, {"name": "x", "team": team.pk, "kind": "webhook", "url": "https://10.0.0.8/hook"}
    )
    assert response.status_code == 400
    assert "The URL points to a private, loopback or link-local address." in response.text
    assert not NotificationEndpoint.objects.exists()


def test_a_short_secret_and_a_missing_url_are_explained(client, admin_user, team):
    client.force_login(admin_user)
    response = client.post(PAGE, {"name": "x", "team": team.pk, "kind": "webhook", "secret": "short"})
    assert response.status_code == 400
    assert "Give the webhook URL." in response.text
    assert "at least 16 characters" in response.text
    assert 'value="short"' not in response.text  # a refused secret is not sent back either


def test_editing_keeps_the_stored_url_and_secret_unless_new_ones_are_given(
    client, admin_user, webhook, receiver
):
    client.force_login(admin_user)
    edit = reverse("notifications:edit", args=[webhook.pk])
    client.post(edit, {"name": "SIEM (EU)", "kind": "webhook", "enabled": "on"})
    webhook.refresh_from_db()
    assert webhook.name == "SIEM (EU)"
    assert webhook.get_url() == receiver.url
    assert webhook.get_secret() == SECRET
    client.post(
        edit, {"name": "SIEM (EU)", "kind": "webhook", "enabled": "on", "secret": "another-secret-0123456789"}
    )
    webhook.refresh_from_db()
    assert webhook.get_secret() == "another-secret-0123456789"
    assert AuditEvent.objects.filter(action="notification_endpoint.updated").count() == 2


def test_a_paused_endpoint_is_sent_nothing_and_the_log_shows_what_was_sent(
    client, admin_user, webhook, cluster, receiver
):
    client.force_login(admin_user)
    client.post(reverse("notifications:toggle", args=[webhook.pk]))
    assert "paused" in client.get(PAGE).text.lower()
    notify_scan_finished(scan_snapshot(cluster, as_yaml(deployment("web", privileged=True))))
    assert not NotificationDelivery.objects.exists()

    client.post(reverse("notifications:toggle", args=[webhook.pk]))
    toggles = AuditEvent.objects.filter(action="notification_endpoint.updated").order_by("id")
    assert [event.details["enabled"] for event in toggles] == [False, True]  # paused, then resumed
    notify_scan_finished(scan_snapshot(cluster, as_yaml(deployment("db", privileged=True))))
    delivery = NotificationDelivery.objects.get()
    assert delivery.event == NotificationEvent.NEW_FINDINGS
    log = client.get(PAGE).text
    assert "New critical or high findings after a scan" in log
    assert f'href="/clusters/scans/{delivery.scan_id}/"' in log


def test_deleting_asks_first_then_removes_the_endpoint(client, admin_user, webhook):
    client.force_login(admin_user)
    page = client.get(PAGE).text
    assert re.search(r'action="/notifications/\d+/delete/" data-confirm="Delete the endpoint “siem”', page)
    response = client.post(reverse("notifications:delete", args=[webhook.pk]), follow=True)
    assert "Endpoint “siem” deleted" in response.text
    assert not NotificationEndpoint.objects.exists()
    assert AuditEvent.objects.filter(
        action="notification_endpoint.deleted", target_label__startswith="siem"
    ).exists()


def test_only_admins_see_the_page_and_only_their_teams_endpoints(client, viewer, engineer, outsider, webhook):
    for person in (viewer, engineer):
        client.force_login(person)
        assert "/notifications/" not in client.get("/").text  # no link in the navigation
        assert client.get(PAGE).status_code == 403
    client.force_login(outsider)  # an admin, of another team
    assert 'href="/notifications/"' in client.get("/").text
    assert "siem" not in client.get(PAGE).text
    assert client.get(reverse("notifications:edit", args=[webhook.pk])).status_code == 404
    assert client.post(reverse("notifications:delete", args=[webhook.pk])).status_code == 404
    assert NotificationEndpoint.objects.filter(pk=webhook.pk).exists()


def test_an_admin_of_several_teams_chooses_the_team(client, admin_user, other_team):
    from accounts.models import Membership, Role

    Membership.objects.create(team=other_team, user=admin_user, role=Role.ADMIN)
    client.force_login(admin_user)
    page = client.get(PAGE).text
    assert '<option value="" selected>Choose a team…</option>' in page
    refused = client.post(PAGE, {"name": "x", "kind": "webhook", "url": "https://hooks.example.com/x"})
    assert refused.status_code == 400
    assert not NotificationEndpoint.objects.exists()
