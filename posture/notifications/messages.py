"""What a notification says: a JSON document for webhooks, and its Slack rendering.

Messages carry names, counts and links, never credentials, evidence values or
secrets: a finding's evidence may quote an environment variable's value.
"""

from django.conf import settings

from posture.models import NotificationEvent

SEVERITY_ORDER = ["critical", "high", "medium", "low", "info"]
MAX_LISTED = 10


def _link(path: str) -> str | None:
    return f"{settings.RAMPART_BASE_URL}{path}" if settings.RAMPART_BASE_URL else None


def _finding(finding) -> dict:
    return {
        "id": finding.pk,
        "check_id": finding.check_id,
        "severity": finding.severity,
        "object": finding.object_ref,
        "first_seen_at": finding.first_seen_at.isoformat(),
        "due_at": finding.due_at.isoformat() if finding.due_at else None,
    }


def new_findings(scan, findings: list, total_by_severity: dict[str, int]) -> dict:
    cluster = scan.cluster
    return {
        "event": NotificationEvent.NEW_FINDINGS.value,
        "cluster": {"id": cluster.pk, "name": cluster.name, "team": cluster.team.slug},
        "scan": {
            "id": scan.pk,
            "status": scan.status,
            "finished_at": scan.finished_at.isoformat() if scan.finished_at else None,
            "score": scan.score,
            "grade": scan.grade,
        },
        "new_by_severity": total_by_severity,
        "new_total": sum(total_by_severity.values()),
        "findings": [_finding(finding) for finding in findings[:MAX_LISTED]],
        "url": _link(f"/clusters/scans/{scan.pk}/"),
    }


def scan_failed(scan) -> dict:
    cluster = scan.cluster
    return {
        "event": NotificationEvent.SCAN_FAILED.value,
        "cluster": {"id": cluster.pk, "name": cluster.name, "team": cluster.team.slug},
        # The error is one user-facing line written by posture.services: never a traceback or a secret.
        "scan": {"id": scan.pk, "trigger": scan.trigger, "error": scan.error[:300]},
        "url": _link(f"/clusters/scans/{scan.pk}/"),
    }


def overdue_digest(team, day, by_cluster: list[dict], oldest: list) -> dict:
    return {
        "event": NotificationEvent.OVERDUE_DIGEST.value,
        "team": {"id": team.pk, "name": team.name, "slug": team.slug},
        "date": day.isoformat(),
        "overdue_total": sum(row["overdue"] for row in by_cluster),
        "clusters": by_cluster,
        "oldest": [_finding(finding) for finding in oldest[:MAX_LISTED]],
        "url": _link("/findings/"),
    }


def agent_attention(team, day, clusters: list[dict]) -> dict:
    """``clusters``: per agent cluster, ``silent_for`` ("3 days", or None) and ``token`` (the ingest
    token about to expire, or None)."""
    return {
        "event": NotificationEvent.AGENT_ATTENTION.value,
        "team": {"id": team.pk, "name": team.name, "slug": team.slug},
        "date": day.isoformat(),
        "clusters": [{**cluster, "url": _link(f"/clusters/{cluster['id']}/agent/")} for cluster in clusters],
        "url": _link("/clusters/"),
    }


def _agent_line(cluster: dict) -> str:
    problems = []
    if cluster["silent_for"] and cluster["last_push_at"] is None:
        problems.append(f"no push yet, {cluster['silent_for']} after its first token was issued")
    elif cluster["silent_for"]:
        problems.append(f"no push for {cluster['silent_for']}")
    if cluster["token"]:
        problems.append(
            f"ingest token “{cluster['token']['name']}” expires {cluster['token']['expires_at'][:10]}"
        )
    return f"• {cluster['cluster']}: {'; '.join(problems)}"


def slack(payload: dict) -> dict:
    """A Slack (or Mattermost, Rocket.Chat...) incoming-webhook body: text plus a simple block."""
    event = payload["event"]
    if event == NotificationEvent.NEW_FINDINGS:
        counts = ", ".join(
            f"{payload['new_by_severity'][s]} {s}"
            for s in SEVERITY_ORDER
            if payload["new_by_severity"].get(s)
        )
        title = f"{payload['new_total']} new findings on {payload['cluster']['name']} ({counts})"
        lines = [f"• `{f['check_id']}` on {f['object']} ({f['severity']})" for f in payload["findings"]]
        if payload["new_total"] > len(payload["findings"]):
            lines.append(f"…and {payload['new_total'] - len(payload['findings'])} more")
    elif event == NotificationEvent.SCAN_FAILED:
        title = f"Scan of {payload['cluster']['name']} failed"
        lines = [payload["scan"]["error"] or "no reason recorded"]
    elif event == NotificationEvent.AGENT_ATTENTION:
        title = f"Agents of {payload['team']['name']} that need attention"
        lines = [_agent_line(cluster) for cluster in payload["clusters"]]
    else:
        title = f"{payload['overdue_total']} overdue findings in {payload['team']['name']}"
        lines = [f"• {row['cluster']}: {row['overdue']} overdue" for row in payload["clusters"]]
    if payload.get("url"):
        lines.append(f"<{payload['url']}|Open in Rampart>")
    text = "\n".join(
        [f"*{_escape(title)}*", *(_escape(line) if not line.startswith("<") else line for line in lines)]
    )
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}]}


def _escape(text: str) -> str:
    # Slack's mrkdwn control characters; names come from the cluster and could mention @channel.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
