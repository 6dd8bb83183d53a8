"""Pausing a cluster's scans and resuming them: the only writer of ``Cluster.paused_*``.

A paused cluster keeps everything it has (schedule, scans, findings, agent tokens), but no new scan
of it starts: beat's task for it is disabled (schedules.sync_schedule), a scheduled task already
queued skips it, "Scan now" and uploads are refused (ClusterPaused), and an agent's push is stored
without being scanned. A scan already queued or running when the cluster is paused finishes.
Resuming enables beat's task again with the schedule untouched.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts import audit
from accounts.hidden_characters import has_hidden_characters
from posture import schedules
from posture.models import Cluster
from posture.models.clusters import MAX_PAUSE_REASON_LENGTH

PAUSE_FIELDS = ["paused_at", "paused_by", "pause_reason", "paused_until"]


MAX_PAUSE = timedelta(days=366)  # "until" further off than a year is a typo, not a maintenance window


class InvalidPauseReason(ValueError):
    """The reason or the end of the pause cannot be stored; the message is for the user."""


class ClusterPaused(Exception):
    """A scan refused because the cluster is paused; the message says since when, by whom and why."""

    def __init__(self, cluster: Cluster):
        super().__init__(
            f"scanning {cluster.name} is paused ({pause_description(cluster)}): a team admin must resume "
            "it first"
        )


def clean_reason(reason: str | None) -> str:
    """The reason on one line, or InvalidPauseReason. Line breaks become spaces: it is shown in a banner."""
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_PAUSE_REASON_LENGTH:
        raise InvalidPauseReason(
            f"Keep the reason to {MAX_PAUSE_REASON_LENGTH} characters (it has {len(reason)})."
        )
    if has_hidden_characters(reason):
        raise InvalidPauseReason("The reason may not contain invisible or text-direction characters.")
    return reason


def check_until(until: datetime | None, now: datetime) -> datetime | None:
    """When a pause is to end: in the future and within a year, or InvalidPauseReason."""
    if until is None:
        return None
    if until <= now:
        raise InvalidPauseReason("The pause must end in the future.")
    if until > now + MAX_PAUSE:
        raise InvalidPauseReason(
            "A pause can end at most a year from now; leave the end empty to resume by hand."
        )
    return until


def pause_cluster(cluster: Cluster, *, actor, reason: str = "", until: datetime | None = None) -> bool:
    """Pause the cluster's scans, until resumed or until ``until``. False if it already was paused:
    its first pause (who, when, why, until when) stands.

    Audited as cluster.paused. ``cluster`` is updated in place.
    """
    reason = clean_reason(reason)
    now = timezone.now()
    until = check_until(until, now)
    with transaction.atomic():
        # Conditional: of two admins pausing at once, one pauses and the other is told it already was.
        paused = Cluster.objects.filter(pk=cluster.pk, paused_at__isnull=True).update(
            paused_at=now, paused_by=actor, pause_reason=reason, paused_until=until
        )
        cluster.refresh_from_db(fields=PAUSE_FIELDS)
        if paused != 1:
            return False
        schedules.sync_schedule(cluster)
        ends = {"until": until} if until else {}
        team = cluster.team.slug
        audit.record("cluster.paused", actor=actor, target=cluster, team=team, reason=reason, **ends)
    return True


def resume_cluster(cluster: Cluster, *, actor) -> bool:
    """Resume the cluster's scans on the schedule it had. False if it was not paused.

    Audited as cluster.resumed, with when the pause began and why. ``cluster`` is updated in place.
    """
    with transaction.atomic():
        before = (
            Cluster.objects.select_for_update()
            .filter(pk=cluster.pk, paused_at__isnull=False)
            .values("paused_at", "pause_reason")
            .first()
        )
        if before is None:
            cluster.refresh_from_db(fields=PAUSE_FIELDS)
            return False
        Cluster.objects.filter(pk=cluster.pk).update(
            paused_at=None, paused_by=None, pause_reason="", paused_until=None
        )
        cluster.refresh_from_db(fields=PAUSE_FIELDS)
        schedules.sync_schedule(cluster)
        audit.record(
            "cluster.resumed",
            actor=actor,
            target=cluster,
            team=cluster.team.slug,
            paused_at=before["paused_at"],
            reason=before["pause_reason"],
        )
    return True


def resume_due_pauses(now: datetime | None = None) -> int:
    """Resume every cluster whose pause was set to end by now (beat, every few minutes); how many.
    Audited as cluster.resumed by the system, with why."""
    now = now or timezone.now()
    resumed = 0
    for cluster in Cluster.objects.filter(paused_until__lte=now).select_related("team"):
        resumed += resume_cluster(cluster, actor=None)
    return resumed


def ensure_scannable(cluster: Cluster) -> None:
    """Raise ClusterPaused if the cluster is paused."""
    if cluster.paused_at is not None:
        raise ClusterPaused(cluster)


def pause_description(cluster: Cluster) -> str:
    """ "since 2026-03-02 14:05 UTC by ada: node pool rebuild" (the reason only if one was given)."""
    when = timezone.localtime(cluster.paused_at)
    who = cluster.paused_by.get_username() if cluster.paused_by_id else "an account since deleted"
    reason = f": {cluster.pause_reason}" if cluster.pause_reason else ""
    until = ""
    if cluster.paused_until is not None:
        end = timezone.localtime(cluster.paused_until)
        until = f", until {end:%Y-%m-%d %H:%M} {end.tzname()}"
    return f"since {when:%Y-%m-%d %H:%M} {when.tzname()} by {who}{until}{reason}"
