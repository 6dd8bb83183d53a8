"""Webhooks go to the address their host name had when it was checked, never to a second look-up.

A hostile DNS server can answer a public address to the check and 127.0.0.1 (or the cloud
metadata address) to the connection that follows (DNS rebinding). The resolver is the one
thing faked here, by host name; the receivers are real HTTP(S) servers on loopback.
"""

import socket
import ssl
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from posture.models import NotificationDelivery, NotificationEndpoint
from posture.notifications import send_overdue_digests
from posture.notifications.delivery import check_url, url_refusal
from posture.notifications.pinned_http import Destination, post
from tests.api.helpers import make_findings
from tests.fakekube.pki import CertificateAuthority
from tests.webhooks import Receiver

pytestmark = pytest.mark.django_db

HOST = "hooks.rampart-test.invalid"  # .invalid never resolves in real DNS
PUBLIC = "93.184.215.14"


@pytest.fixture
def resolver(monkeypatch):
    """Answers HOST with the next of ``answers`` (the last one again once they run out)."""
    real = socket.getaddrinfo

    class Resolver:
        answers: list[str] = []
        asked = 0

        def __call__(self, host, port, *args, **kwargs):
            if host != HOST:
                return real(host, port, *args, **kwargs)
            self.asked += 1
            address = self.answers[min(self.asked, len(self.answers)) - 1]
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    fake = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


def _deliver_digest(team, cluster, url, django_capture_on_commit_callbacks) -> NotificationDelivery:
    endpoint = NotificationEndpoint(team=team, name="rebound")
    endpoint.set_url(url)
    endpoint.save()
    make_findings(cluster, 1, due_at=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        send_overdue_digests()
    return NotificationDelivery.objects.get()


def test_a_name_answered_with_loopback_after_the_check_never_reaches_loopback(
    resolver, team, cluster, django_capture_on_commit_callbacks
):
    receiver = Receiver().start()
    try:
        resolver.answers = [PUBLIC, "127.0.0.1"]
        with override_settings(
            RAMPART_NOTIFICATION_ALLOW_PRIVATE=False,
            RAMPART_NOTIFICATION_TIMEOUT=1,
            RAMPART_NOTIFICATION_RETRY_DELAYS=[],
        ):
            delivery = _deliver_digest(
                team, cluster, f"http://{HOST}:{receiver.port}/hooks", django_capture_on_commit_callbacks
            )
    finally:
        receiver.stop()
    assert receiver.requests == []
    assert resolver.asked == 1
    assert delivery.attempts == 1


def test_the_checked_address_is_what_the_request_goes_to(resolver):
    resolver.answers = [PUBLIC]
    with override_settings(RAMPART_NOTIFICATION_ALLOW_PRIVATE=False):
        destination = check_url(f"https://{HOST}:8443/services/T0/B0?x=1")
    assert destination == Destination(HOST, 8443, True, "/services/T0/B0?x=1", (PUBLIC,))
    with override_settings(RAMPART_NOTIFICATION_ALLOW_PRIVATE=False):
        assert check_url(f"https://{HOST}/équipe/hook?q=a b").target == "/%C3%A9quipe/hook?q=a%20b"


def test_a_pinned_request_names_the_host_without_looking_it_up():
    receiver = Receiver().start()
    try:
        destination = Destination(HOST, receiver.port, False, "/hooks?team=payments", ("127.0.0.1",))
        status = post(destination, b"{}", {"Content-Type": "application/json"}, timeout=5, limit=1024)
    finally:
        receiver.stop()
    assert status == 200
    assert receiver.requests[0]["path"] == "/hooks?team=payments"
    assert receiver.requests[0]["headers"]["Host"] == f"{HOST}:{receiver.port}"


def test_https_to_a_pinned_address_still_checks_the_certificate_against_the_host_name(monkeypatch, tmp_path):
    authority = CertificateAuthority("webhook-ca")
    trusted = tmp_path / "ca.pem"
    trusted.write_text(authority.cert_pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(trusted))

    receiver = Receiver(tls=authority.issue_server([HOST])).start()
    try:
        good = Destination(HOST, receiver.port, True, "/hooks", ("127.0.0.1",))
        assert post(good, b"{}", {}, timeout=5, limit=1024) == 200
        other_name = Destination(
            "elsewhere.rampart-test.invalid", receiver.port, True, "/hooks", ("127.0.0.1",)
        )
        with pytest.raises(ssl.SSLCertVerificationError):
            post(other_name, b"{}", {}, timeout=5, limit=1024)
    finally:
        receiver.stop()
    assert len(receiver.requests) == 1


def test_a_redirect_is_not_followed_and_fails_the_delivery_for_good(
    receiver, webhook, cluster, django_capture_on_commit_callbacks
):
    receiver.answers = [302]
    make_findings(cluster, 1, due_at=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        send_overdue_digests()
    delivery = NotificationDelivery.objects.get()
    assert len(receiver.requests) == 1
    assert (delivery.status, delivery.status_code) == ("failed", 302)
    assert delivery.error == "the endpoint answered HTTP 302"


def test_a_port_that_is_not_a_number_is_refused_when_the_endpoint_is_saved():
    assert (
        url_refusal("https://hooks.example.com:99999/x") == "The URL's port is not a number from 1 to 65535."
    )
