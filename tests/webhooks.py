"""A local webhook receiver and endpoints that point at it, for the notification and page tests."""

import http.server
import json
import ssl
import tempfile
import threading

import pytest
from django.test import override_settings

from posture.models import NotificationEndpoint


class Receiver:
    """A local webhook receiver: answers each POST with the next status from ``answers`` (then 200).
    Given a KeyPair from tests.fakekube.pki, it speaks HTTPS with that certificate."""

    def __init__(self, tls=None):
        self.answers: list[int] = []
        self.requests: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            with tempfile.NamedTemporaryFile("w", suffix=".pem") as pem:
                pem.write(tls.cert_pem + tls.key_pem)
                pem.flush()
                context.load_cert_chain(pem.name)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/hooks/rampart"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def json(self, index: int) -> dict:
        return json.loads(self.requests[index]["body"])

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver().start()
    # The receiver is on loopback, which production refuses (RAMPART_NOTIFICATION_ALLOW_PRIVATE).
    with override_settings(
        RAMPART_NOTIFICATION_ALLOW_PRIVATE=True, RAMPART_NOTIFICATION_RETRY_DELAYS=[0, 0, 0]
    ):
        yield server
    server.stop()


SECRET = "whsec-test-0123456789abcdef"


@pytest.fixture
def webhook(team, receiver):
    endpoint = NotificationEndpoint(team=team, name="siem", kind=NotificationEndpoint.Kind.WEBHOOK)
    endpoint.set_url(receiver.url)
    endpoint.set_secret(SECRET)
    endpoint.save()
    return endpoint


@pytest.fixture
def slack(team, receiver):
    endpoint = NotificationEndpoint(team=team, name="slack", kind=NotificationEndpoint.Kind.SLACK)
    endpoint.set_url(receiver.url + "/T000/B000/XXXXSECRETXXXX")
    endpoint.save()
    return endpoint
