"""A real Celery worker process on the real Redis broker, against the test database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


@pytest.fixture
def real_broker():
    """Send tasks to Redis instead of running them in-process."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (make test points it at the local Redis)")
    from posture.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = settings.REDIS_URL
    yield app
    app.conf.task_always_eager = True


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path):
        self.process = process
        self.log = log

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_worker(tmp_path: Path, *, extra_env: dict | None = None) -> Worker:
    if connection.vendor != "postgresql":
        pytest.skip("the worker tests need PostgreSQL (set DATABASE_URL)")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "posture.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "RAMPART_DATA_DIR": str(settings.DATA_DIR),
        **(extra_env or {}),
    }
    log = tmp_path / f"worker-{time.monotonic_ns()}.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "posture",
            "worker",
            "-Q",
            "scans,maintenance",
            "--pool=solo",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
            f"--hostname=test-{os.getpid()}-{time.monotonic_ns()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = Worker(process, log)
    deadline = time.monotonic() + 30
    while "ready." not in worker.output():
        if process.poll() is not None or time.monotonic() > deadline:
            worker.kill() if process.poll() is None else None
            raise RuntimeError(f"the Celery worker did not start:\n{worker.output()[-3000:]}")
        time.sleep(0.1)
    return worker


@pytest.fixture
def celery_worker(tmp_path, real_broker, transactional_db):
    worker = start_worker(tmp_path)
    yield worker
    if worker.process.poll() is None:
        os.killpg(worker.process.pid, signal.SIGTERM)
        try:
            worker.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()


def wait_for(predicate, timeout=60.0, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")
