"""The agent's push as the tests run it: in this process, or as the CronJob runs it."""

import os
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def push_arguments(rampart_url: str, cluster, token_file, kubeconfig) -> list[str]:
    return ["--push", rampart_url, "--cluster-id", str(cluster.pk), "--token-file", str(token_file),
            "--kubeconfig", str(kubeconfig)]  # fmt: skip


def collect_and_push(rampart_url: str, cluster, token_file, kubeconfig) -> None:
    """``manage.py collect --push`` in this process: CommandError where the agent would exit non-zero."""
    call_command("collect", *push_arguments(rampart_url, cluster, token_file, kubeconfig))


def run_as_the_cronjob(rampart_url: str, cluster, token_file, kubeconfig) -> subprocess.CompletedProcess:
    """``manage.py collect --push`` in a process of its own, as the CronJob runs it: its exit code and
    output. It reaches Rampart only over HTTP (no database of its own)."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    arguments = push_arguments(rampart_url, cluster, token_file, kubeconfig)
    return subprocess.run(  # noqa: S603 - as the CronJob runs it
        [sys.executable, "manage.py", "collect", *arguments],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
