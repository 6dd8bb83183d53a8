"""Deciding what to send, and to whom; the sending is delivery.py's, run by tasks.py."""

import logging
from collections import Counter
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from accounts import audit
from accounts.models import Team
from findings.models import Finding
from findings.services import Refused
from posture.agent_silence import never_pushed_for, silent_for, with_last_push
from posture.models import (
    Cluster,
    ConnectionMode,
    NotificationDelivery,
    NotificationEndpoint,
    NotificationEvent,
    Scan,
    ScanStatus,
)
from posture.models.notifications import ENDPOINT_NAME_TAKEN
from posture.notifications import messages

logger = logging.getLogger(__name__)

ALERT_SEVERITIES = ("critical", "high")


# --- Endpoints -------------------------------------------------------------------


class EndpointNameTaken(Refused):
    def __init__(self):
        super().__init__(ENDPOINT_NAME_TAKEN, field="name")


def endpoint_name_taken(team_id: int, name: str, *, other_than: int | None = None) -> bool:
    """Whether another endpoint of the team already has ``name``, in any case."""
    return (
        NotificationEndpoint.objects.filter(team_id=team_id, name__iexact=name)
        .exclude(pk=other_than)
        .exists()
    )


def save_endpoint(
    endpoint: NotificationEndpoint, *, url: str | None, secret: str | None, actor, request=None, changed=()
) -> NotificationEndpoint:
    """Create or change an endpoint; ``url`` and ``secret`` (write-only) replace the stored ones when given.

    The audit row names what changed, never the URL (for Slack, a credential) or the secret.
    """
    created = endpoint.pk is None
    if url:
        endpoint.set_url(url)
    if secret:
        endpoint.set_secret(secret)
    with transaction.atomic():
        try:
            with transaction.atomic():
                endpoint.save()
        except IntegrityError as exc:
            # Forms check the name first; two requests for the same name at once meet here.
            if "notification_endpoint_name_unique_in_team" in str(exc):
                if created:
                    endpoint.pk = None
                raise EndpointNameTaken() from None
            raise
        action = "notification_endpoint.created" if created else "notification_endpoint.updated"
        details = {"fields": sorted(changed)}
        if "enabled" in changed:
            details["enabled"] = endpoint.enabled  # paused or resumed, readable in the log
        audit.record(action, actor=actor, target=endpoint, request=request, **details)
    return endpoint


def delete_endpoint(endpoint: NotificationEndpoint, *, actor, request=None) -> None:
    """Delete it and its delivery log; the audit row keeps its name."""
    with transaction.atomic():
        audit.record("notification_endpoint.deleted", actor=actor, target=endpoint, request=request)
        endpoint.delete()


def notify_scan_finished(scan: Scan | None) -> int:
    """Queue the messages a finished scan calls for; returns how many. Never raises: a scan's
    outcome must not depend on its notifications."""
    if scan is None or scan.status not in ScanStatus.finished():
        return 0
    try:
        return _notify_scan(scan)
    except Exception:
        logger.exception("notifications for scan %s could not be queued", scan.pk)
        return 0


def _notify_scan(scan: Scan) -> int:
    endpoints = NotificationEndpoint.objects.filter(team_id=scan.cluster.team_id, enabled=True)
    if scan.status == ScanStatus.FAILED:
        event, payload = NotificationEvent.SCAN_FAILED, None
        wanted = [endpoint for endpoint in endpoints if endpoint.wants(event)]
        if wanted:
            payload = messages.scan_failed(scan)
    else:
        event = NotificationEvent.NEW_FINDINGS
        wanted = [endpoint for endpoint in endpoints if endpoint.wants(event)]
        if not wanted:
            return 0
        new = Finding.objects.filter(first_seen_scan=scan, severity__in=ALERT_SEVERITIES).exclude(
            status="false_positive"
        )
        by_severity = dict(Counter(new.values_list("severity", flat=True)))
        if not by_severity:
            return 0
        listed = list(new.order_by("-severity", "check_id", "namespace", "name")[: messages.MAX_LISTED])
        listed.sort(
            key=lambda f: (messages.SEVERITY_ORDER.index(f.severity), f.check_id, f.namespace, f.name)
        )
        payload = messages.new_findings(scan, listed, by_severity)
    return _queue(wanted, event, f"scan:{scan.pk}", payload, scan=scan)


def _teams_wanting(event: str):
    """(team, its enabled endpoints that want ``event``) for each team with at least one: the daily
    messages go out team by team."""
    for team in Team.objects.filter(notification_endpoints__enabled=True).distinct():
        wanted = [
            endpoint for endpoint in team.notification_endpoints.filter(enabled=True) if endpoint.wants(event)
        ]
        if wanted:
            yield team, wanted


def send_overdue_digests(now: datetime | None = None) -> int:
    """One digest per endpoint and day, for teams with overdue findings."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    queued = 0
    for team, wanted in _teams_wanting(NotificationEvent.OVERDUE_DIGEST):
        overdue = Finding.objects.filter(cluster__team=team).overdue(now)
        rows = list(
            overdue.order_by()
            .values("cluster_id", "cluster__name")
            .annotate(count=Count("id"))
            .order_by("-count", "cluster__name")
        )
        if not rows:
            continue
        by_cluster = [
            {"cluster": row["cluster__name"], "id": row["cluster_id"], "overdue": row["count"]}
            for row in rows
        ]
        oldest = list(overdue.order_by("due_at", "id")[: messages.MAX_LISTED])
        payload = messages.overdue_digest(team, day, by_cluster, oldest)
        queued += _queue(wanted, NotificationEvent.OVERDUE_DIGEST, f"digest:{day.isoformat()}", payload)
    return queued


def send_agent_alerts(now: datetime | None = None) -> int:
    """Once a day per endpoint: the team's agent clusters whose agent went silent (or never pushed,
    a day after its token was issued), or whose ingest tokens all expire within two weeks. Paused
    clusters are left out: their agents may be stopped on purpose. Rampart cannot reach these
    clusters, so this is the only way anyone hears of either."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    queued = 0
    for team, wanted in _teams_wanting(NotificationEvent.AGENT_ATTENTION):
        clusters = with_last_push(
            Cluster.objects.filter(team=team, connection_mode=ConnectionMode.AGENT, paused_at__isnull=True)
        ).order_by("name")
        needing_attention = []
        for cluster in clusters:
            silent = silent_for(cluster, cluster.last_push_at, now)
            if cluster.last_push_at is None:
                first_token = cluster.ingest_tokens.order_by("created_at").first()
                silent = never_pushed_for(cluster, first_token.created_at if first_token else None, now)
            token = cluster.ingest_tokens.about_to_expire(now)
            if silent or token:
                needing_attention.append(
                    {
                        "cluster": cluster.name,
                        "id": cluster.pk,
                        # How long without a push: since the last one, or since the first token was
                        # issued for an agent that never pushed (last_push_at null).
                        "silent_for": silent or None,
                        "last_push_at": cluster.last_push_at.isoformat() if cluster.last_push_at else None,
                        "token": {"name": token.name, "expires_at": token.expires_at.isoformat()}
                        if token
                        else None,
                    }
                )
        if needing_attention:
            payload = messages.agent_attention(team, day, needing_attention)
            queued += _queue(wanted, NotificationEvent.AGENT_ATTENTION, f"agents:{day.isoformat()}", payload)
    return queued


def _queue(endpoints, event: str, dedupe_key: str, payload: dict | None, *, scan=None) -> int:
    from posture.notifications.tasks import deliver_task

    queued = 0
    for endpoint in endpoints:
        try:
            with transaction.atomic():
                delivery = NotificationDelivery.objects.create(
                    endpoint=endpoint, event=event, dedupe_key=dedupe_key, scan=scan, payload=payload
                )
        except IntegrityError:
            continue  # already queued for this scan or day
        transaction.on_commit(lambda pk=delivery.pk: deliver_task.delay(pk))
        queued += 1
    return queued
