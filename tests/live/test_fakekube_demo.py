"""`python -m tests.fakekube --demo` serves a cluster that Rampart can scan with the kubeconfig it writes."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posture.scanning import engine
from posture.scanning.collectors.live import collect_with_details, connection_from

REPO = Path(__file__).resolve().parents[2]


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the demo server did not start: {process.communicate(timeout=5)[0]}")
        time.sleep(0.05)


@pytest.fixture
def demo(tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakekube",
            "--demo",
            "--port",
            "0",
            "--workloads",
            "30",
            "--quiet",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        _wait_for(tmp_path / "ca.crt", process)  # the last file it writes
        yield process, tmp_path
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)


def test_the_demo_writes_a_kubeconfig_that_the_live_collector_can_scan(demo):
    process, folder = demo
    kubeconfig = folder / "kubeconfig"

    result = collect_with_details(connection_from("kubeconfig", credentials=kubeconfig.read_text()))

    inventory = result.inventory
    assert len(inventory.of_kind("Deployment")) + len(inventory.of_kind("StatefulSet")) > 20
    assert inventory.of_kind("Secret")
    assert all(
        set(secret.raw) == {"apiVersion", "kind", "metadata"} for secret in inventory.of_kind("Secret")
    )
    assert result.secret_managers == {"external-secrets.io": "External Secrets Operator"}
    assert inventory.coverage_gaps == {}
    # The Gateway API too: the legacy Gateway serves plain HTTP, the public one only redirects.
    findings = engine.run(inventory).findings
    for check_id in ("ingress-no-tls", "ingress-no-rate-limit"):
        reported = [r.name for r in findings if r.check_id == check_id and r.kind == "Gateway"]
        assert reported == ["legacy"], check_id
    # And a Kubernetes Dashboard left on a NodePort.
    exposed = [r for r in findings if r.check_id == "sensitive-interface-exposed"]
    assert [(r.namespace, r.name) for r in exposed] == [("kubernetes-dashboard", "kubernetes-dashboard")]
    # And a kubeadm control plane with kubeadm's defaults, read from its mirror pods.
    unencrypted = [r.name for r in findings if r.check_id == "secrets-not-encrypted-at-rest"]
    assert unencrypted == ["kube-apiserver-cp-1"]
    assert not [r for r in findings if r.check_id == "control-plane-open-access"]
    outdated = sorted(r.name for r in findings if r.check_id == "node-version-unsupported")
    assert outdated == ["cp-1", "worker-1", "worker-2"]
    assert oct(kubeconfig.stat().st_mode & 0o777) == "0o600"
    process.terminate()
    output = process.communicate(timeout=10)[0]
    assert "fakekube: serving" in output
    assert f"{kubeconfig}" in output
    assert "python -m posture.scanning.collectors.probe --kubeconfig" in output
    assert "fakekube: stopped" in output
