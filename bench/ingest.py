"""Ingest throughput (100,000 findings, first scan and rescan) and the end-to-end scan of 10,000 workloads."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "first_scan_per_second": 25000,
    "rescan_per_second": 20000,
    "e2e_10k_seconds": 15.0,
    "e2e_10k_peak_mb": 400.0,
}


def _synthetic_results(count: int):
    from posture.scanning.checks import load_catalogue
    from posture.scanning.checks.registry import Severity
    from posture.scanning.engine import Result, ScanResults

    checks = {check.id: check for check in load_catalogue()}
    ids = list(checks)
    severities = list(Severity)
    findings = [
        Result(
            check_id=ids[i % len(ids)],
            severity=severities[i % 4],
            category="workload",
            kind="Deployment",
            namespace=f"team-{i % 50}",
            name=f"app-{i // len(ids)}",
            container="main",
            message="container main runs privileged",
            path="spec.template.spec.containers[0]",
            value=True,
            labels={"app": f"app-{i // len(ids)}"},
        )
        for i in range(count)
    ]
    return ScanResults(findings=findings, checks=checks)


def ingest_throughput(count: int = 100_000) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from findings.ingest import ingest
    from posture.models import Scan, ScanStatus
    from tests.factories import make_cluster, make_team

    cluster = make_cluster(make_team("bench"), name="bench-ingest")
    results = _synthetic_results(count)
    out = {}
    for label in ("first_scan", "rescan"):
        scan = Scan.objects.create(cluster=cluster, created_at=timezone.now(), status=ScanStatus.RUNNING)
        started = time.perf_counter()
        with transaction.atomic():
            stats = ingest(scan, results, now=timezone.now())
        seconds = time.perf_counter() - started
        Scan.objects.filter(pk=scan.pk).update(status=ScanStatus.SUCCEEDED)
        out[label] = {"seconds": round(seconds, 2), "per_second": round(count / seconds), "new": stats.new}
        print(
            f"  ingest {label}: {count} findings in {seconds:.2f} s = {count / seconds:,.0f}/s "
            f"(target {TARGETS[label + '_per_second']:,}/s)",
            flush=True,
        )
    return out


def end_to_end(workloads: int = 10000) -> dict:
    from bench import datasets

    path = datasets.write(workloads)["json"]
    env = {**os.environ, "RAMPART_TEST_DATABASE_NAME": "rampart_bench_e2e"}
    out = subprocess.run(
        [sys.executable, "-m", "bench.e2e_case", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"  end to end, {workloads} workloads from a snapshot: {result['seconds']:.2f} s, "
        f"{result['peak_mb']:.0f} MB peak, {result['findings']} findings stored "
        f"(targets {TARGETS['e2e_10k_seconds']} s, {TARGETS['e2e_10k_peak_mb']:.0f} MB)",
        flush=True,
    )
    return result


def run() -> dict:
    return {"targets": TARGETS, "throughput": ingest_throughput(), "end_to_end": end_to_end()}
