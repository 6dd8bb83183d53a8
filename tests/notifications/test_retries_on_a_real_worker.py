"""The retry path on a real Celery worker consuming the notifications queue from the real broker."""

import os
import signal
import subprocess
import sys
import time

import pytest

from posture.models import NotificationDelivery, NotificationEndpoint
from tests.e2e.conftest import ROOT, Worker, _database_url, real_broker, wait_for  # noqa: F401 - fixture
from tests.factories import as_yaml, deployment, scan_snapshot
from tests.webhooks import SECRET

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def notifications_worker(tmp_path, real_broker):  # noqa: F811 - the e2e fixture, imported above
    from django.conf import settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "posture.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "RAMPART_DATA_DIR": str(settings.DATA_DIR),
        "RAMPART_NOTIFICATION_ALLOW_PRIVATE": "1",
        "RAMPART_NOTIFICATION_RETRY_DELAYS": "1,1",
    }
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "posture",
            "worker",
            "-Q",
            "notifications",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            f"--hostname=notify-{os.getpid()}-{time.monotonic_ns()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = Worker(process, log)
    wait_for(lambda: "ready." in worker.output() or process.poll() is not None, timeout=30, message="worker")
    if process.poll() is not None:
        pytest.fail(f"the worker did not start:\n{worker.output()[-2000:]}")
    yield worker
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()


def test_the_worker_retries_a_500_with_backoff_and_then_delivers(
    notifications_worker, receiver, team, cluster
):
    endpoint = NotificationEndpoint(team=team, name="siem")
    endpoint.set_url(receiver.url)
    endpoint.set_secret(SECRET)
    endpoint.save()
    receiver.answers = [500]

    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))

    delivery = wait_for(
        lambda: NotificationDelivery.objects.filter(status="delivered").first(),
        timeout=60,
        message=f"the delivery (worker log:\n{notifications_worker.output()[-1500:]})",
    )
    assert delivery.attempts == 2
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 200]
    first, second = delivery.attempt_log.all()
    assert (second.at - first.at).total_seconds() >= 0.9  # the countdown, not an immediate retry
    assert len(receiver.requests) == 2
    assert "notifications.deliver" in notifications_worker.output()
