"""The agent's push retries a server error with the same Idempotency-Key, and gives up on a refusal."""

import http.server
import threading

import pytest
from django.core.management.base import CommandError

from posture.agent_push import push
from posture.management.commands.collect import push_url, read_token


class Receiver(http.server.BaseHTTPRequestHandler):
    answers: list[int] = []
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append({"key": self.headers["Idempotency-Key"], "size": len(body)})
        status = type(self).answers.pop(0)
        payload = b'{"scan": {"id": 7}}' if status == 202 else b'{"error": {"code": "x", "message": "no"}}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/clusters/3/snapshots"
    server.shutdown()
    server.server_close()


def test_a_server_error_is_retried_with_the_same_idempotency_key(receiver):
    Receiver.answers = [503, 202]
    answer = push(receiver, "rpi_a_b", b"snapshot", sleep=lambda seconds: None)
    assert answer.status == 202
    assert answer.body["scan"]["id"] == 7
    assert len(Receiver.seen) == 2
    assert Receiver.seen[0]["key"] == Receiver.seen[1]["key"]


def test_a_refusal_is_not_retried(receiver):
    Receiver.answers = [400]
    answer = push(receiver, "rpi_a_b", b"snapshot", sleep=lambda seconds: None)
    assert answer.status == 400
    assert answer.message == "no"
    assert len(Receiver.seen) == 1


def test_the_push_url_and_token_file_are_checked(tmp_path):
    assert (
        push_url("https://rampart.example.com/", 4)
        == "https://rampart.example.com/api/v1/clusters/4/snapshots"
    )
    with pytest.raises(CommandError):
        push_url("https://rampart.example.com", None)
    with pytest.raises(CommandError):
        push_url("file:///etc/passwd", 1)
    token = tmp_path / "token"
    token.write_text("rpt_personal_token")
    with pytest.raises(CommandError):
        read_token(str(token))
    with pytest.raises(CommandError):
        read_token(str(tmp_path / "missing"))
