"""What the agent tells its CronJob when a push does not land: a message that says what to change, and an
exit code that separates "a person must fix the configuration" (3) from "Rampart was not reachable" (4)."""

import contextlib
import gzip
import hashlib
import http.server
import socket
import threading
import time
from datetime import timedelta

import pytest

from posture.agent_push import EXIT_REFUSED, EXIT_UNREACHABLE, PushFailed, push, refusal
from posture.models import AgentPush, IngestToken, Scan
from tests.agent.helpers import run_as_the_cronjob
from tests.factories import as_json_list, deployment
from tests.fakekube import FakeKube

SNAPSHOT = gzip.compress(as_json_list(deployment("web", privileged=True)))


def no_sleep(seconds):
    pass


class Stand(http.server.BaseHTTPRequestHandler):
    """What may stand at the agent's --push address instead of Rampart: a proxy, a redirect, a slow hop."""

    answers: list[tuple[int, dict, bytes]] = []
    delay = 0.0
    seen: list[tuple[str, str, str | None]] = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        type(self).seen.append((self.command, self.path, self.headers.get("Authorization")))
        time.sleep(type(self).delay)
        status, headers, body = type(self).answers.pop(0)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the agent stopped waiting, as the timeout test means
            self.wfile.write(body)

    do_POST = do_GET = _answer  # noqa: N815 - http.server's naming

    def log_message(self, *args):
        pass


def _serve(handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def stand():
    Stand.seen, Stand.delay = [], 0.0
    server = _serve(Stand)
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/clusters/3/snapshots"
    server.shutdown()
    server.server_close()


NGINX_413 = (
    413,
    {"Content-Type": "text/html"},
    b"<html><head><title>413 Request Entity Too Large</title></html>",
)
NGINX_502 = (502, {"Content-Type": "text/html"}, b"<html><head><title>502 Bad Gateway</title></html>")


def test_a_redirect_is_not_followed_so_the_snapshot_and_its_token_go_nowhere_else(stand):
    elsewhere = "https://rampart.example.com/api/v1/clusters/3/snapshots"
    Stand.answers = [(301, {"Location": elsewhere}, b"")]
    with pytest.raises(PushFailed) as failed:
        push(stand, "rpi_a_b", SNAPSHOT, sleep=no_sleep)
    assert failed.value.returncode == EXIT_REFUSED
    assert f"redirects to {elsewhere}" in str(failed.value)
    assert "set --push (RAMPART_URL)" in str(failed.value)
    assert [method for method, _, _ in Stand.seen] == ["POST"]  # no GET that loses the snapshot


def test_a_proxy_refusing_the_size_says_which_limit_to_raise_not_its_html(stand):
    Stand.answers = [NGINX_413]
    answer = push(stand, "rpi_a_b", SNAPSHOT, sleep=no_sleep)
    message = str(refusal(answer, stand, len(SNAPSHOT)))
    assert refusal(answer, stand, len(SNAPSHOT)).returncode == EXIT_REFUSED
    assert f"refused the {len(SNAPSHOT):,}-byte snapshot as too large" in message
    assert "client_max_body_size" in message
    assert "<html" not in message


def test_a_page_that_is_not_rampart_asks_whether_the_address_is_right(stand):
    Stand.answers = [(404, {"Content-Type": "text/html"}, b"<!DOCTYPE html><title>Page not found</title>")]
    answer = push(stand, "rpi_a_b", SNAPSHOT, sleep=no_sleep)
    message = str(refusal(answer, stand, len(SNAPSHOT)))
    assert (
        message == f"nothing at {stand} takes pushes: is --push (RAMPART_URL) Rampart's address? (HTTP 404)"
    )


def test_a_proxy_that_cannot_reach_rampart_is_retried_then_reported_as_unreachable(stand):
    Stand.answers = [NGINX_502] * 4
    logged = []
    with pytest.raises(PushFailed) as failed:
        push(stand, "rpi_a_b", SNAPSHOT, sleep=no_sleep, log=logged.append)
    assert failed.value.returncode == EXIT_UNREACHABLE
    assert "after 4 attempts: HTTP 502" in str(failed.value)
    assert "<html" not in str(failed.value)
    assert len(logged) == 3


def test_no_answer_in_time_says_the_snapshot_may_have_arrived(stand):
    Stand.answers = [(202, {}, b"{}")] * 4
    Stand.delay = 0.5
    with pytest.raises(PushFailed) as failed:
        push(stand, "rpi_a_b", SNAPSHOT, timeout=0.1, sleep=no_sleep)
    assert failed.value.returncode == EXIT_UNREACHABLE
    assert "no answer within 0.1 s (Rampart may have received the snapshot" in str(failed.value)
    assert "--push-timeout" in str(failed.value)


def test_nothing_listening_is_unreachable_after_retrying():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/v1/clusters/3/snapshots"
    with pytest.raises(PushFailed) as failed:
        push(url, "rpi_a_b", SNAPSHOT, sleep=no_sleep)
    assert failed.value.returncode == EXIT_UNREACHABLE
    assert f"could not push to Rampart at {url} after 4 attempts" in str(failed.value)


def test_an_untrusted_certificate_is_a_configuration_error_naming_ca_file():
    with FakeKube([]) as https_server:  # a TLS server whose CA the system does not trust
        with pytest.raises(PushFailed) as failed:
            push(f"{https_server.url}/api/v1/clusters/3/snapshots", "rpi_a_b", SNAPSHOT, sleep=no_sleep)
        assert len(https_server.requests) == 0  # nothing was sent over the untrusted connection
    assert failed.value.returncode == EXIT_REFUSED
    assert "certificate" in str(failed.value)
    assert "--ca-file" in str(failed.value)


@pytest.mark.django_db(transaction=True)
def test_a_push_rampart_is_still_storing_is_retried_until_its_answer(
    live_server, agent_cluster, ingest_token
):
    # The first request timed out on the agent's side while Rampart kept storing it; the retry
    # arrives before Rampart has answered the first.
    token, raw, _ = ingest_token
    url = f"{live_server.url}/api/v1/clusters/{agent_cluster.pk}/snapshots"
    key = "push-still-being-stored-1"
    claimed = AgentPush.objects.create(
        cluster=agent_cluster,
        token=token,
        idempotency_key=key,
        request_sha256=hashlib.sha256(SNAPSHOT).hexdigest(),
    )
    waits = []

    def first_request_finishes(seconds):
        waits.append(seconds)
        AgentPush.objects.filter(pk=claimed.pk).update(
            status_code=202, response={"snapshot": 1, "scan": {"id": 41}}
        )

    answer = push(url, raw, SNAPSHOT, key=key, sleep=first_request_finishes)
    assert answer.status == 202
    assert answer.body["scan"]["id"] == 41
    assert waits == [5]  # as Rampart's Retry-After says
    assert not Scan.objects.filter(cluster=agent_cluster).exists()  # the retry scanned nothing twice


@pytest.mark.django_db(transaction=True)
def test_the_cronjob_sees_exit_code_3_and_rampart_s_reason_for_a_revoked_token(
    live_server, fake_cluster, agent_cluster, ingest_token
):
    _, kubeconfig = fake_cluster
    token, _, token_file = ingest_token
    IngestToken.objects.filter(pk=token.pk).update(revoked_at=token.created_at)
    result = run_as_the_cronjob(live_server.url, agent_cluster, token_file, kubeconfig)
    assert result.returncode == EXIT_REFUSED, result.stderr
    assert "Rampart refused the snapshot (HTTP 401): Invalid or revoked ingest token." in result.stderr
    assert token_file.read_text().strip() not in result.stderr + result.stdout


@pytest.mark.django_db(transaction=True)
def test_the_cronjob_sees_exit_code_3_and_when_its_token_expired(
    live_server, fake_cluster, agent_cluster, ingest_token
):
    _, kubeconfig = fake_cluster
    token, _, token_file = ingest_token
    expired = token.created_at - timedelta(minutes=1)
    IngestToken.objects.filter(pk=token.pk).update(expires_at=expired)

    result = run_as_the_cronjob(live_server.url, agent_cluster, token_file, kubeconfig)

    assert result.returncode == EXIT_REFUSED, result.stderr
    assert (
        "Rampart refused the snapshot (HTTP 401): "
        f"This ingest token expired on {expired:%Y-%m-%d %H:%M} UTC: "
        "issue a new one on the cluster's Agent page in Rampart "
        "and put it in the agent's Secret (rampart-agent-token)."
    ) in result.stderr
    assert not Scan.objects.filter(cluster=agent_cluster).exists()
