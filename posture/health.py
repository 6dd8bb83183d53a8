"""Probes and metrics for operators: /healthz, /readyz, /metrics.

The probes are answered by a middleware placed first, before host validation
and the HTTPS redirect: kubelets probe by pod IP over plain HTTP, and a probe
must not depend on ALLOWED_HOSTS or sessions.
"""

import hmac
import logging

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import timezone

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        logger.exception("readiness: the database is not answering")
        return False


def _broker_ok() -> bool:
    if not settings.REDIS_URL:
        return True  # tasks run in-process; there is no broker to wait for
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        return bool(client.ping())
    except Exception:
        logger.exception("readiness: Redis is not answering")
        return False


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return HttpResponse("ok\n", content_type="text/plain")
        if request.path == "/readyz":
            checks = {"database": _database_ok(), "redis": _broker_ok()}
            status = 200 if all(checks.values()) else 503
            return JsonResponse({name: "ok" if ok else "down" for name, ok in checks.items()}, status=status)
        return self.get_response(request)


def metrics(request):
    """Prometheus text format, for a scraper holding RAMPART_METRICS_TOKEN; 404 for everyone else."""
    expected = settings.RAMPART_METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Http404
    return HttpResponse(render_metrics(), content_type="text/plain; version=0.0.4; charset=utf-8")


def render_metrics() -> str:
    from findings.models import Finding, FindingStatus
    from posture.agent_silence import with_last_push
    from posture.models import Cluster, ConnectionMode, Scan

    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[dict, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            rendered = ",".join(f'{key}="{_escape(str(val))}"' for key, val in sorted(labels.items()))
            lines.append(f"{name}{{{rendered}}} {value}" if rendered else f"{name} {value}")

    # A cluster's name is unique only within its team: the team's slug keeps two "prod" apart.
    clusters = list(Cluster.objects.values_list("id", "name", "team__slug", "paused_at"))
    labels_of = {pk: {"cluster": name, "team": team} for pk, name, team, _ in clusters}
    family(
        "rampart_cluster_paused",
        "gauge",
        "1 while a team admin has paused the cluster's scans, else 0: silence scan-age alerts with it.",
        [(labels_of[pk], 1 if paused_at else 0) for pk, _, _, paused_at in clusters],
    )
    outcomes = Scan.objects.values("status", "trigger").annotate(n=Count("id")).order_by()
    family(
        "rampart_scans_total",
        "counter",
        "Scans by final status and trigger.",
        [({"status": row["status"], "trigger": row["trigger"]}, row["n"]) for row in outcomes],
    )
    last = Scan.objects.filter(status__in=["succeeded", "partial", "failed"]).order_by(
        "cluster_id", "-created_at"
    )
    last = last.distinct("cluster_id") if connection.vendor == "postgresql" else _latest_per_cluster(last)
    samples_duration, samples_score, samples_age = [], [], []
    now = timezone.now()
    for scan in last:
        labels = labels_of.get(scan.cluster_id, {"cluster": str(scan.cluster_id)})
        if scan.duration_seconds is not None:
            samples_duration.append((labels, round(scan.duration_seconds, 3)))
        if scan.score is not None:
            samples_score.append((labels, scan.score))
        samples_age.append((labels, round((now - scan.created_at).total_seconds())))
    family(
        "rampart_last_scan_duration_seconds",
        "gauge",
        "Duration of each cluster's latest finished scan.",
        samples_duration,
    )
    family(
        "rampart_cluster_score",
        "gauge",
        "Posture score (0-100) of each cluster's latest scan.",
        samples_score,
    )
    family(
        "rampart_last_scan_age_seconds",
        "gauge",
        "Time since each cluster's latest finished scan started.",
        samples_age,
    )
    # Agent clusters: a scan age cannot show an agent that stopped ("Scan now" re-reads its last push).
    pushes = with_last_push(Cluster.objects.filter(connection_mode=ConnectionMode.AGENT)).values_list(
        "id", "last_push_at"
    )
    family(
        "rampart_agent_last_push_age_seconds",
        "gauge",
        "Time since each agent cluster's agent last pushed a snapshot (absent before its first push).",
        [
            (labels_of.get(pk, {"cluster": str(pk)}), round((now - pushed).total_seconds()))
            for pk, pushed in pushes
            if pushed is not None
        ],
    )
    open_rows = (
        Finding.objects.filter(status__in=[FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED])
        .values("cluster_id", "severity")
        .annotate(n=Count("id"))
        .order_by()
    )
    family(
        "rampart_open_findings",
        "gauge",
        "Open or acknowledged findings by cluster and severity.",
        [
            ({**labels_of.get(row["cluster_id"], {"cluster": ""}), "severity": row["severity"]}, row["n"])
            for row in open_rows
        ],
    )
    failed = Scan.objects.filter(status="failed").aggregate(n=Count("id"), at=Max("finished_at"))
    family(
        "rampart_task_failures_total",
        "counter",
        "Scans that failed (unreachable, timed out, worker lost).",
        [({}, failed["n"] or 0)],
    )
    return "\n".join(lines) + "\n"


def _latest_per_cluster(scans):
    seen, latest = set(), []
    for scan in scans:
        if scan.cluster_id not in seen:
            seen.add(scan.cluster_id)
            latest.append(scan)
    return latest


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
