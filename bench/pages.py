"""Page server time at fleet scale: 200 clusters, two years of daily scans, a million findings.

The history is written directly as summary rows (146,000 Scan rows through
bulk_create) and the findings through COPY, into the benchmark database that
Django's test runner creates (``python -m bench pages``, or ``python -m
bench.pages`` on its own): the development database is never touched. Each
page is then requested with Django's test Client, 3 times to warm up and 30
times measured, as an engineer of every team (who sees all 200 clusters and
gets the triage controls). The target is a p95 of 150 ms per page.
"""

import hashlib
import os
import random
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import orjson

TARGET_P95_MS = 150.0
# RAMPART_BENCH_SCALE=0.05 gives a quick smoke run (10 clusters, 50,000 findings); the figures need 1.
SCALE = float(os.environ.get("RAMPART_BENCH_SCALE", "1"))
CLUSTERS = max(TEAMS := 10, int(200 * SCALE))
DAYS = 730
FINDINGS = int(1_000_000 * SCALE)
WARMUP, RUNS = 3, 30
# RAMPART_BENCH_KEEPDB=1 keeps the benchmark database (test_rampart_bench_pages) and its fleet
# between runs: for profiling a page, not for the recorded figures.
KEEPDB = os.environ.get("RAMPART_BENCH_KEEPDB") == "1"
# RAMPART_BENCH_PAGES=overview,checks measures only the pages whose label starts with one of these
# (the data set is built all the same): for measuring one page before and after a change.
ONLY = tuple(name.strip() for name in os.environ.get("RAMPART_BENCH_PAGES", "").split(",") if name.strip())
RETENTION_DAYS = 400  # older scans keep no per-namespace breakdown (posture.services.prune_old_detail)
NAMESPACES = [
    f"{team}-{n}"
    for team in ("payments", "checkout", "catalog", "search", "data", "ingress")
    for n in range(5)
]
STATUS_MIX = [  # what two years of scans and triage leave behind
    ("open", 0.40),
    ("acknowledged", 0.08),
    ("risk_accepted", 0.04),
    ("false_positive", 0.03),
    ("resolved", 0.45),
]


def _choose(rng: random.Random, mix):
    point, total = rng.random(), 0.0
    for value, share in mix:
        total += share
        if point < total:
            return value
    return mix[-1][0]


# --- The data set ---------------------------------------------------------------------


def build(seed: int = 7) -> dict:
    """Write the fleet; returns what the measurements need (users, ids). Takes a minute or two."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Membership, Role, Team
    from findings.models import ExceptionRule, Finding
    from findings.summary import grade_for
    from posture.models import Cluster, ConnectionMode, Scan, ScanStatus, ScanTrigger
    from posture.scanning.checks import load_catalogue
    from tests.factories import make_user

    rng = random.Random(seed)  # noqa: S311 - synthetic data
    started = time.perf_counter()
    checks = list(load_catalogue())
    teams = [Team.objects.create(name=f"Team {n}", slug=f"team-{n}") for n in range(TEAMS)]
    engineer = make_user(None, username="bench-engineer")
    admin = make_user(None, username="bench-admin")
    assignees = [make_user(None, username=f"engineer-{n}") for n in range(8)]
    for team in teams:
        Membership.objects.create(team=team, user=engineer, role=Role.ENGINEER)
        Membership.objects.create(team=team, user=admin, role=Role.ADMIN)
        for person in assignees:
            Membership.objects.create(team=team, user=person, role=Role.ENGINEER)
    clusters = Cluster.objects.bulk_create(
        Cluster(name=f"cluster-{n:03d}", team=teams[n % TEAMS], connection_mode=ConnectionMode.SNAPSHOT)
        for n in range(CLUSTERS)
    )

    # Two years of daily summary rows per cluster.
    now = timezone.now().replace(hour=3, minute=0, second=0, microsecond=0)
    first_day = now - timedelta(days=DAYS - 1)
    scan_ids: dict[int, list[int]] = {}
    batch = []

    def flush():
        created = Scan.objects.bulk_create(batch, batch_size=5000)
        for scan in created:
            scan_ids.setdefault(scan.cluster_id, []).append(scan.pk)
        batch.clear()

    for cluster in clusters:
        score = rng.uniform(55, 80)
        for day in range(DAYS):
            score = min(99.0, max(30.0, score + rng.gauss(0.03, 0.6)))
            at = first_day + timedelta(days=day)
            count = int(4000 - score * 25 + rng.randint(-40, 40))
            severity = {"critical": count // 50, "high": count // 8, "medium": count // 3, "low": count // 3}
            severity["info"] = count - sum(severity.values())
            batch.append(
                Scan(
                    cluster=cluster,
                    trigger=ScanTrigger.SCHEDULE,
                    status=ScanStatus.SUCCEEDED,
                    phase="done",
                    created_at=at,
                    started_at=at,
                    finished_at=at + timedelta(seconds=rng.uniform(8, 40)),
                    server_version="v1.31.4",
                    objects_collected={
                        "Deployment": 300,
                        "Service": 300,
                        "Pod": 900,
                        "ConfigMap": 400,
                        "Secret": 350,
                        "Namespace": 30,
                        "NetworkPolicy": 25,
                        "Role": 40,
                    },  # fmt: skip
                    findings_count=count,
                    counts_by_severity=severity,
                    counts_by_category={
                        "workload": count // 2,
                        "network": count // 5,
                        "rbac": count // 6,
                        "secrets": count - count // 2 - count // 5 - count // 6,
                    },  # fmt: skip
                    counts_by_namespace=(
                        {ns: count // len(NAMESPACES) for ns in NAMESPACES}
                        if day >= DAYS - RETENTION_DAYS
                        else {}
                    ),
                    new_count=rng.randint(0, 30),
                    resolved_count=rng.randint(0, 35),
                    reopened_count=rng.randint(0, 3),
                    accepted_risk_count=count // 25,
                    score=round(score, 1),
                    grade=grade_for(score),
                    framework_compliance={
                        name: {
                            "controls": total,
                            "passing": (passing := int(total * score / 100)),
                            "percent": round(100 * passing / total, 1),
                        }
                        for name, total in (
                            ("pss-baseline", 11),
                            ("pss-restricted", 19),
                            ("cis", 40),
                            ("nsa", 60),
                        )
                    },  # fmt: skip
                )
            )
            if len(batch) >= 20_000:
                flush()
    flush()
    scans_written = time.perf_counter()

    # A million findings, 5,000 per cluster, through COPY.
    per_cluster = FINDINGS // CLUSTERS
    sla = settings.RAMPART_SLA_DAYS
    fields = [field for field in Finding._meta.concrete_fields if not field.primary_key]
    columns = [field.column for field in fields]
    latest: dict[int, Counter] = {}
    table = Finding._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # noqa: S608 - names from the model
            for cluster in clusters:
                ids = scan_ids[cluster.pk]
                tally = latest.setdefault(cluster.pk, Counter())
                for n in range(per_cluster):
                    check = checks[n % len(checks)]
                    status = _choose(rng, STATUS_MIX)
                    first_index = rng.randrange(DAYS)
                    first_seen = first_day + timedelta(days=first_index)
                    if status == "resolved":
                        last_index = rng.randrange(first_index, DAYS)
                    else:
                        last_index = DAYS - 1
                        tally[("severity", check.severity.value)] += status != "false_positive"
                        tally[("check", check.id)] += status in ("open", "acknowledged")
                    last_seen = first_day + timedelta(days=last_index)
                    namespace = NAMESPACES[n % len(NAMESPACES)]
                    name = f"app-{(n // len(checks)) % 400}"
                    values = {
                        "cluster_id": cluster.pk,
                        "fingerprint": hashlib.sha256(f"{cluster.pk}/{n}".encode()).hexdigest(),
                        "check_id": check.id,
                        "severity": check.severity.value,
                        "category": str(check.category),
                        "kind": "Deployment",
                        "namespace": namespace,
                        "name": name,
                        "container": name,
                        "message": f"{check.title.lower()} in container {name}",
                        "evidence": orjson.dumps(
                            {"path": "spec.template.spec.containers[0]", "value": True}
                        ).decode(),
                        "labels": orjson.dumps({"app": name, "team": namespace.split("-")[0]}).decode(),
                        "status": status,
                        "status_reason": "legacy, replaced next quarter" if status == "risk_accepted" else "",
                        "risk_accepted_until": now + timedelta(days=60)
                        if status == "risk_accepted"
                        else None,
                        "exception_rule_id": None,
                        "assignee_id": rng.choice(assignees).pk if rng.random() < 0.2 else None,
                        "due_at": first_seen + timedelta(days=sla.get(check.severity.value, 180)),
                        "first_seen_at": first_seen,
                        "last_seen_at": last_seen,
                        "resolved_at": last_seen + timedelta(days=1) if status == "resolved" else None,
                        "first_seen_scan_id": ids[first_index],
                        "last_seen_scan_id": ids[last_index],
                        "updated_at": last_seen,
                    }
                    copy.write_row([_value(field, values) for field in fields])
    findings_written = time.perf_counter()

    # History: who resolved what, in which scan (the scan page reads it).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO findings_findingevent "
            "(finding_id, at, actor_id, action, from_value, to_value, reason, scan_id) "
            "SELECT id, resolved_at, NULL, 'status', 'open', 'resolved', "
            "'no longer seen by a complete scan', last_seen_scan_id "
            "FROM findings_finding WHERE status = 'resolved'"
        )
    # The latest scan of each cluster says what its findings are now.
    for cluster in clusters:
        tally = latest[cluster.pk]
        severity = {key[1]: count for key, count in tally.items() if key[0] == "severity"}
        by_check = {key[1]: count for key, count in tally.items() if key[0] == "check" and count}
        Scan.objects.filter(pk=scan_ids[cluster.pk][-1]).update(
            counts_by_severity=severity, counts_by_check=by_check, findings_count=sum(severity.values())
        )
        Cluster.objects.filter(pk=cluster.pk).update(last_scan_id=scan_ids[cluster.pk][-1])
    for n in range(50):
        cluster = clusters[(n * 4) % CLUSTERS]
        ExceptionRule.objects.create(
            team=cluster.team, cluster=cluster, check_ids=[checks[n % len(checks)].id], reason="vendor agent",
            owner=admin, created_by=admin, expires_at=now + timedelta(days=90), match_count=n,
        )  # fmt: skip
    with connection.cursor() as cursor:
        for model_table in (table, "findings_findingevent", Scan._meta.db_table, Cluster._meta.db_table):
            cursor.execute(f"VACUUM ANALYZE {model_table}")
    done = time.perf_counter()
    some_cluster = clusters[CLUSTERS // 2]
    return {
        "engineer": engineer,
        "admin": admin,
        "cluster": some_cluster,
        "scan_id": scan_ids[some_cluster.pk][-1],
        "finding_id": Finding.objects.filter(cluster=some_cluster, status="open")
        .values_list("pk", flat=True)
        .first(),
        "timings": {
            "scans_seconds": round(scans_written - started, 1),
            "findings_seconds": round(findings_written - scans_written, 1),
            "total_seconds": round(done - started, 1),
            "scans": Scan.objects.count(),
            "findings": Finding.objects.count(),
        },
    }


def existing() -> dict | None:
    """The fleet a kept benchmark database already holds (RAMPART_BENCH_KEEPDB=1), or None."""
    from django.contrib.auth import get_user_model

    from findings.models import Finding
    from posture.models import Cluster

    clusters = list(Cluster.objects.order_by("pk"))
    if len(clusters) != CLUSTERS or Finding.objects.count() != FINDINGS:
        return None
    users = get_user_model().objects
    cluster = clusters[CLUSTERS // 2]
    return {
        "engineer": users.get(username="bench-engineer"),
        "admin": users.get(username="bench-admin"),
        "cluster": cluster,
        "scan_id": cluster.last_scan_id,
        "finding_id": Finding.objects.filter(cluster=cluster, status="open")
        .values_list("pk", flat=True)
        .first(),
        "timings": {"reused": True, "clusters": CLUSTERS, "findings": FINDINGS},
    }


def _value(field, values: dict):
    if field.column in values:
        return values[field.column]
    if field.has_default():
        default = field.get_default()
        return orjson.dumps(default).decode() if isinstance(default, dict | list) else default
    return None


# --- The measurements ----------------------------------------------------------------------


def pages(data: dict) -> list[tuple[str, str, str, dict]]:
    """(label, user, url, headers) for every page and the partials htmx asks for."""
    cluster, scan, finding = data["cluster"].pk, data["scan_id"], data["finding_id"]
    hx = {"HX-Request": "true"}
    obj = f"Deployment/{NAMESPACES[12]}/app-12"
    work = "status=open&status=acknowledged"
    return [
        ("overview", "engineer", "/", {}),
        ("overview, 90-day trend (partial)", "engineer", "/?days=90", hx),
        ("overview of one team", "engineer", "/?team=team-3", {}),
        ("cluster list", "engineer", "/clusters/", {}),
        ("cluster", "engineer", f"/clusters/{cluster}/", {}),
        ("cluster, 1-year trend", "engineer", f"/clusters/{cluster}/?days=365", {}),
        ("cluster scans (polling partial)", "engineer", f"/clusters/{cluster}/", hx),
        ("scan", "engineer", f"/clusters/scans/{scan}/", {}),
        ("findings", "engineer", "/findings/", {}),
        ("findings, page 20", "engineer", "/findings/?page=20", {}),
        ("findings, critical+open (partial)", "engineer", "/findings/?severity=critical&status=open", hx),
        ("findings, one cluster", "engineer", f"/findings/?cluster={cluster}", {}),
        ("findings, overdue by due date", "engineer", "/findings/?overdue=true&sort=due", {}),
        ("findings, last seen", "engineer", "/findings/?sort=last_seen&status=open&status=acknowledged", {}),
        ("findings, mine", "engineer", "/findings/?assignee=me", {}),
        # The overview's "who carries what" links: a team's open criticals, the unassigned overdue.
        ("findings, a team's criticals", "engineer", f"/findings/?team=team-3&severity=critical&{work}", {}),
        ("findings, unassigned overdue", "engineer", "/findings/?assignee=none&overdue=true&sort=due", {}),
        ("findings, framework cis", "engineer", "/findings/?framework=cis&status=open", {}),
        ("findings, search in a cluster", "engineer", f"/findings/?cluster={cluster}&q=app-12", {}),
        ("findings, search everywhere", "engineer", "/findings/?q=app-12", {}),
        # The finding page's link to its object's other findings, and the same object asked for
        # across the fleet (an API consumer following one workload through every cluster).
        ("findings, one object", "engineer", f"/findings/?cluster={cluster}&object={obj}&status=open", {}),
        ("findings, one object, every cluster", "engineer", f"/findings/?object={obj}&status=open", {}),
        ("finding", "engineer", f"/findings/{finding}/", {}),
        ("checks", "engineer", "/findings/checks/", {}),
        ("exceptions", "engineer", "/findings/exceptions/", {}),
        ("register a cluster", "admin", "/clusters/new/", {}),
    ]


def measure(data: dict) -> dict:
    from django.test import Client

    clients = {}
    for role in ("engineer", "admin"):
        clients[role] = Client()
        clients[role].force_login(data[role])
    results = {}
    for label, role, url, headers in pages(data):
        if ONLY and not label.startswith(ONLY):
            continue
        client = clients[role]
        first_ms = None
        for _ in range(WARMUP):
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            assert response.status_code == 200, f"{url}: {response.status_code}"
            first_ms = first_ms or (time.perf_counter() - started) * 1000  # cold caches
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            client.get(url, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[int(round(0.95 * (len(times) - 1)))]
        results[label] = {
            "url": url + (" (htmx)" if headers else ""),
            "first_ms": round(first_ms, 1),
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(p95, 1),
            "meets_target": p95 <= TARGET_P95_MS,
        }
        print(f"  {label:<38} p50 {results[label]['p50_ms']:>7.1f} ms   p95 {p95:>7.1f} ms"
              f"   {'ok' if p95 <= TARGET_P95_MS else 'OVER'}", flush=True)  # fmt: skip
    return results


def table(results: dict) -> str:
    lines = [
        "| Page | URL | first (ms) | p50 (ms) | p95 (ms) | p95 ≤ 150 ms |",
        "|---|---|---:|---:|---:|:---:|",
    ]
    for label, row in results.items():
        verdict = "yes" if row["meets_target"] else "no"
        figures = f"{row['first_ms']} | {row['p50_ms']} | {row['p95_ms']}"
        lines.append(f"| {label} | `{row['url']}` | {figures} | {verdict} |")
    return "\n".join(lines)


def run(report=None) -> dict:
    """Build the fleet in the (benchmark) database, measure every page, print a table, return the figures."""
    data = existing() if KEEPDB else None
    if data is None:
        print(f"  writing {CLUSTERS} clusters × {DAYS} daily scans and {FINDINGS:,} findings…", flush=True)
        data = build()
    print(f"  data set: {data['timings']}", flush=True)
    results = {"dataset": data["timings"], "target_p95_ms": TARGET_P95_MS, "pages": measure(data)}
    print(table(results["pages"]))
    if callable(report):
        report("pages", results)
    elif isinstance(report, dict):
        report["pages"] = results
    return results


def main() -> None:
    """``python -m bench.pages``: the same, in a benchmark database of its own."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    if KEEPDB:
        os.environ.setdefault("RAMPART_TEST_DATABASE_NAME", "test_rampart_bench_pages")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    # serialized_aliases=(): a kept database holds a million findings, which Django would serialize.
    databases = setup_databases(verbosity=0, interactive=False, keepdb=KEEPDB, serialized_aliases=())
    try:
        results = run()
    finally:
        if not KEEPDB:
            teardown_databases(databases, verbosity=0)
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "pages.json").write_text(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
