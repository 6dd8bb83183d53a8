"""When an agent cluster's agent has gone quiet.

Rampart cannot reach an agent cluster, so an agent that stopped (a deleted CronJob, a revoked
token, a pod that cannot start) shows only as scans that stop coming: its last scan still looks
healthy. The newest snapshot the agent pushed is the measure, not the newest scan: "Scan now"
re-reads an old snapshot and would hide the silence.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.timesince import timesince

from posture.models import ConnectionMode, Snapshot


def with_last_push(clusters):
    """Annotate ``last_push_at``: when the cluster's agent last delivered a snapshot."""
    newest = Snapshot.objects.filter(cluster=OuterRef("pk"), source=Snapshot.Source.AGENT)
    return clusters.annotate(last_push_at=Subquery(newest.order_by("-uploaded_at").values("uploaded_at")[:1]))


def silent_for(cluster, last_push_at: datetime | None, now: datetime | None = None) -> str:
    """How long ("3 days") the agent has not pushed, past RAMPART_AGENT_SILENT_HOURS; "" while it pushes,
    and while the cluster is paused (its agent may well be stopped on purpose: it shows as paused)."""
    return _quiet_for(cluster, last_push_at, now)


def never_pushed_for(cluster, first_token_at: datetime | None, now: datetime | None = None) -> str:
    """How long ("2 days") since the cluster's first ingest token was issued, for an agent cluster whose
    agent never pushed at all, past RAMPART_AGENT_SILENT_HOURS: an agent that was never set up right
    (no egress to Rampart, a CronJob that cannot start) fails where nobody looks. "" otherwise."""
    return _quiet_for(cluster, first_token_at, now)


def _quiet_for(cluster, since: datetime | None, now: datetime | None) -> str:
    if cluster.connection_mode != ConnectionMode.AGENT or since is None or cluster.paused_at:
        return ""
    now = now or timezone.now()
    if now - since < timedelta(hours=settings.RAMPART_AGENT_SILENT_HOURS):
        return ""
    return timesince(since, now, depth=1)
