"""API latency at scale: 1,000,000 findings, read through the REST API with a personal token.

Called by ``python -m bench`` (section "api") inside the benchmark database the
Django test runner creates; ``python -m bench api`` runs only this section.
Findings are loaded with COPY (about half of them visible to the benchmark
user's team); every request goes through the full stack (middleware, token
authentication, throttles, filters, serializers) via Django's test client.
"""

import random
import statistics
import time
from datetime import timedelta

FINDINGS = 1_000_000
CLUSTERS = 10  # 5 in the user's team, 5 in another
REQUESTS = 60  # per case, after 5 warm-up requests
TARGET_P95_MS = 100.0
BULK_TARGET_SECONDS = 2.0  # "thousands at once, in one request, within a second or two"

SEVERITIES = ["critical"] * 3 + ["high"] * 12 + ["medium"] * 35 + ["low"] * 35 + ["info"] * 15
STATUSES = (
    ["open"] * 70 + ["acknowledged"] * 10 + ["risk_accepted"] * 5 + ["false_positive"] * 5 + ["resolved"] * 10
)
CHECKS = [f"check-{n:02d}" for n in range(60)]


def _setup():
    from django.utils import timezone

    from accounts.models import ApiToken, Role
    from posture.models import Scan
    from tests.factories import make_cluster, make_team, make_user

    mine, theirs = make_team("bench-api"), make_team("bench-api-other")
    clusters = [
        make_cluster(mine if n < CLUSTERS // 2 else theirs, name=f"bench-api-{n}") for n in range(CLUSTERS)
    ]
    user = make_user(mine, Role.ENGINEER, username="bench-api-user")
    _, raw = ApiToken.issue(user, "bench", scope=ApiToken.Scope.READ)
    _, raw_write = ApiToken.issue(user, "bench-triage", scope=ApiToken.Scope.WRITE)
    now = timezone.now()
    scans = [
        Scan(
            cluster=cluster,
            status="succeeded",
            created_at=now - timedelta(hours=6 * step),
            started_at=now - timedelta(hours=6 * step),
            finished_at=now - timedelta(hours=6 * step) + timedelta(minutes=2),
            score=60 + (step % 30),
            grade="C",
            counts_by_severity={"critical": 3, "high": 40, "medium": 300},
            new_count=step % 7,
            resolved_count=step % 5,
        )
        for cluster in clusters
        for step in range(4 * 90)
    ]
    Scan.objects.bulk_create(scans, batch_size=5000)
    # Each cluster's newest scan is its latest, and saw its findings: triage recounts that scan.
    for cluster in clusters:
        cluster.last_scan = next(scan for scan in scans if scan.cluster_id == cluster.pk)
        cluster.save(update_fields=["last_scan"])
    return clusters, user, raw, raw_write


def _load_findings(clusters, count: int) -> float:
    from django.db import connection
    from django.utils import timezone

    from findings.models import Finding

    rng = random.Random(7)  # noqa: S311 - test data
    now = timezone.now()
    table = Finding._meta.db_table
    columns = [
        "cluster_id",
        "fingerprint",
        "check_id",
        "severity",
        "category",
        "kind",
        "namespace",
        "name",
        "container",
        "message",
        "evidence",
        "labels",
        "status",
        "status_reason",
        "first_seen_at",
        "last_seen_at",
        "updated_at",
        "due_at",
        "resolved_at",
        "last_seen_scan_id",
    ]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for n in range(count):
                cluster = clusters[n % len(clusters)]
                status = rng.choice(STATUSES)
                first = now - timedelta(days=rng.randint(1, 400))
                last = (
                    now - timedelta(hours=rng.randint(0, 48))
                    if status != "resolved"
                    else first + timedelta(days=3)
                )
                copy.write_row(
                    (
                        cluster.pk,
                        f"{n:064x}",
                        CHECKS[n % len(CHECKS)],
                        rng.choice(SEVERITIES),
                        "workload",
                        "Deployment",
                        f"team-{n % 200}",
                        f"app-{n // 60}",
                        "main",
                        "container main runs without a read-only root filesystem",
                        '{"path": "spec.template.spec.containers[0]", "value": null}',
                        '{"app": "bench"}',
                        status,
                        "",
                        first,
                        last,
                        last,
                        first + timedelta(days=30),
                        last if status == "resolved" else None,
                        cluster.last_scan_id,
                    )
                )
        cursor.execute("ANALYZE")  # what autovacuum would have done by then
    return time.perf_counter() - started


def _measure(client, headers, path, params=None, follow_next: int = 0) -> dict:
    times = []
    for index in range(REQUESTS + 5):
        url, query = path, params
        started = time.perf_counter()
        response = client.get(url, query or {}, headers=headers)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        if response.streaming:
            b"".join(response.streaming_content)
        for _ in range(follow_next):  # a deep page: follow the cursor
            nxt = response.json()["next"]
            started = time.perf_counter()
            response = client.get(nxt, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if index == 0:
            cold = elapsed  # the first request: caches empty
        if index >= 5:
            times.append(elapsed)
    times.sort()
    return {
        "cold_ms": round(cold, 1),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
        "max_ms": round(times[-1], 1),
    }


def _export(client, headers, kind: str) -> dict:
    """Stream a whole export (every finding the user sees) and watch Python's peak memory."""
    import tracemalloc

    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(f"/api/v1/findings/export/{kind}/", headers=headers)
    assert response.streaming
    size = rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n") if kind == "csv" else chunk.count(b'{"id":')
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "rows": rows - (1 if kind == "csv" else 0),
        "megabytes": round(size / 1e6, 1),
        "seconds": round(seconds, 1),
        "peak_mb": round(peak / 1e6, 1),
    }


def _bulk_triage(client, headers, clusters, user) -> dict:
    """One POST each, through the whole stack, on a table of a million findings."""
    from datetime import date

    from findings.models import Finding

    mine = clusters[: CLUSTERS // 2]  # finding n is in cluster n % 10: check n % 60 = 3 is in one of these
    open_ids = list(
        Finding.objects.filter(cluster__in=mine, status="open")
        .order_by("id")
        .values_list("pk", flat=True)[:15000]
    )
    until = (date.today() + timedelta(days=30)).isoformat()
    cases = [
        ("acknowledge 5,000 by id", "bulk-acknowledge", {"ids": open_ids[:5000], "reason": "bench"}),
        ("assign 5,000 by id", "bulk-assign", {"ids": open_ids[5000:10000], "assignee": user.username}),
        ("comment on 5,000 by id", "bulk-comment", {"ids": open_ids[10000:15000], "body": "bench"}),
        (
            "accept risk of one check's open findings, by filter",
            "bulk-accept-risk",
            {"filter": {"check_id": CHECKS[3], "status": ["open"]}, "reason": "bench", "until": until},
        ),
    ]
    results = {}
    for label, action, body in cases:
        started = time.perf_counter()
        response = client.post(
            f"/api/v1/findings/{action}/", body, content_type="application/json", headers=headers
        )
        seconds = time.perf_counter() - started
        assert response.status_code == 200, (action, response.status_code, response.content[:300])
        outcome = response.json()
        results[label] = {"seconds": round(seconds, 2), **outcome}
        print(
            f"  bulk {label}: {outcome['changed']:,} changed of {outcome['matched']:,} "
            f"in {seconds:.2f} s (target {BULK_TARGET_SECONDS:.0f} s)",
            flush=True,
        )
    return results


CASES = [
    ("findings list, first page", "/api/v1/findings/", None, 0),
    (
        "findings, severity=critical&status=open",
        "/api/v1/findings/",
        {"severity": "critical", "status": "open"},
        0,
    ),
    ("findings, one cluster, high", "/api/v1/findings/", {"cluster": "CLUSTER", "severity": "high"}, 0),
    ("findings, 10th page by cursor", "/api/v1/findings/", {"page_size": "50"}, 9),
    ("findings, page_size=500", "/api/v1/findings/", {"page_size": "500"}, 0),
    ("findings by -last_seen_at", "/api/v1/findings/", {"ordering": "-last_seen_at"}, 0),
    ("finding detail", "/api/v1/findings/FINDING/", None, 0),
    ("summary", "/api/v1/summary/", None, 0),
    ("trends, fleet, 90 days", "/api/v1/trends/", {"days": "90"}, 0),
    ("checks with open counts", "/api/v1/checks/", None, 0),
]


def run(findings: int = FINDINGS) -> dict:
    from django.test import Client

    from findings.models import Finding

    clusters, user, raw, raw_write = _setup()
    print(f"  loading {findings:,} findings with COPY ...", flush=True)
    load_seconds = _load_findings(clusters, findings)
    print(f"  loaded in {load_seconds:.1f} s", flush=True)
    client = Client()
    headers = {"Authorization": f"Bearer {raw}"}
    finding_id = Finding.objects.filter(cluster=clusters[0]).values_list("pk", flat=True).first()
    results = {"findings": findings, "load_seconds": round(load_seconds, 1), "target_p95_ms": TARGET_P95_MS}
    print(f"  {'case':<42} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, path, params, follow in CASES:
        path = path.replace("FINDING", str(finding_id))
        if params:
            params = {
                key: (str(clusters[1].pk) if value == "CLUSTER" else value) for key, value in params.items()
            }
        figures = _measure(client, headers, path, params, follow)
        results[label] = figures
        print(
            f"  {label:<42} {figures['cold_ms']:>9} {figures['p50_ms']:>8} {figures['p95_ms']:>8} "
            f"{figures['max_ms']:>8}",
            flush=True,
        )
    for kind in ("csv", "json"):
        results[f"export {kind}"] = figures = _export(client, headers, kind)
        print(
            f"  export {kind}: {figures['rows']:,} rows, {figures['megabytes']} MB "
            f"in {figures['seconds']} s; peak Python memory while streaming {figures['peak_mb']} MB",
            flush=True,
        )
    results["bulk triage"] = _bulk_triage(client, {"Authorization": f"Bearer {raw_write}"}, clusters, user)
    p95 = results["findings list, first page"]["p95_ms"]
    print(f"  findings list p95 {p95} ms (target < {TARGET_P95_MS:.0f} ms at {findings:,} findings)")
    results["findings_list_p95_ms"] = p95
    results["meets_target"] = p95 < TARGET_P95_MS
    return results


if __name__ == "__main__":
    import sys

    from bench.__main__ import main

    main(["api", *sys.argv[1:]])
