"""The only code that writes Finding.status (see the table in Finding's docstring).

Functions take model instances and plain values, never requests or forms, and
record every change as a FindingEvent in the same transaction.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from findings.models import Finding, FindingEvent, FindingStatus

S = FindingStatus

# (from, to) pairs a user may make. System transitions are separate functions.
USER_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (S.OPEN, S.ACKNOWLEDGED),
        (S.OPEN, S.RISK_ACCEPTED),
        (S.OPEN, S.FALSE_POSITIVE),
        (S.ACKNOWLEDGED, S.OPEN),
        (S.ACKNOWLEDGED, S.RISK_ACCEPTED),
        (S.ACKNOWLEDGED, S.FALSE_POSITIVE),
        (S.RISK_ACCEPTED, S.OPEN),
        (S.FALSE_POSITIVE, S.OPEN),
    }
)
REASON_REQUIRED = frozenset({S.RISK_ACCEPTED, S.FALSE_POSITIVE})


class TransitionRefused(ValueError):
    """A user asked for a change the transition table does not allow; the message says why."""


def _label(status: str) -> str:
    return S(status).label.lower()


def change_status(
    finding: Finding,
    to_status: str,
    *,
    actor,
    reason: str = "",
    until: datetime | None = None,
    now: datetime | None = None,
) -> Finding:
    """A user's status change, validated against the table."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if to_status not in S.values:
        raise TransitionRefused(f"unknown status {to_status!r}")
    if (finding.status, to_status) not in USER_TRANSITIONS:
        raise TransitionRefused(
            f"a finding that is {_label(finding.status)} cannot become {_label(to_status)}"
        )
    if to_status in REASON_REQUIRED and not reason:
        raise TransitionRefused(f"marking a finding {_label(to_status)} needs a reason")
    if to_status == S.RISK_ACCEPTED:
        _validate_acceptance(until, now)
    else:
        until = None
    with transaction.atomic():
        _apply(finding, to_status, actor=actor, reason=reason, now=now, until=until)
    return finding


def _validate_acceptance(until: datetime | None, now: datetime) -> None:
    if until is None:
        raise TransitionRefused("accepting a risk needs an expiry date")
    if until <= now:
        raise TransitionRefused("the risk acceptance must expire in the future")
    maximum = timedelta(days=settings.RAMPART_MAX_RISK_ACCEPTANCE_DAYS)
    if until - now > maximum:
        raise TransitionRefused(
            f"a risk can be accepted for at most {settings.RAMPART_MAX_RISK_ACCEPTANCE_DAYS} days"
        )


def _apply(finding: Finding, to_status: str, *, actor, reason: str, now: datetime, until=None, scan=None):
    from_status = finding.status
    finding.status = to_status
    finding.status_reason = reason
    finding.risk_accepted_until = until
    finding.resolved_at = now if to_status == S.RESOLVED else None
    finding.save(
        update_fields=["status", "status_reason", "risk_accepted_until", "resolved_at", "updated_at"]
    )
    FindingEvent.objects.create(
        finding=finding,
        at=now,
        actor=actor,
        action=FindingEvent.Action.STATUS,
        from_value=from_status,
        to_value=to_status,
        reason=reason,
        scan=scan,
    )


def assign(finding: Finding, assignee, *, actor, now: datetime | None = None) -> Finding:
    now = now or timezone.now()
    before = finding.assignee.get_username() if finding.assignee_id else ""
    after = assignee.get_username() if assignee else ""
    if before == after:
        return finding
    with transaction.atomic():
        finding.assignee = assignee
        finding.save(update_fields=["assignee", "updated_at"])
        FindingEvent.objects.create(
            finding=finding,
            at=now,
            actor=actor,
            action=FindingEvent.Action.ASSIGNED,
            from_value=before,
            to_value=after,
        )
    return finding


# --- System transitions, in bulk: called by the ingest inside its transaction ---


def resolve_unseen(finding_ids: Iterable[int], *, scan, now: datetime) -> int:
    """Live findings that a complete scan no longer sees become resolved."""
    return _bulk_system_change(
        finding_ids,
        S.RESOLVED,
        scan=scan,
        now=now,
        reason="no longer seen by a complete scan",
        extra={"resolved_at": now, "risk_accepted_until": None},
    )


def reopen_returned(finding_ids: Iterable[int], *, scan, now: datetime) -> int:
    """Resolved findings that a scan sees again are open again, history kept."""
    return _bulk_system_change(
        finding_ids,
        S.OPEN,
        scan=scan,
        now=now,
        reason="seen again after it was resolved",
        extra={"resolved_at": None},
    )


def expire_risk_acceptances(now: datetime | None = None) -> int:
    """Accepted risks whose expiry has passed return to open."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Finding.objects.select_for_update()
            .filter(status=S.RISK_ACCEPTED, risk_accepted_until__lte=now)
            .values_list("id", flat=True)
        )
        return _bulk_system_change(
            ids,
            S.OPEN,
            scan=None,
            now=now,
            reason="risk acceptance expired",
            extra={"risk_accepted_until": None},
        )


def _bulk_system_change(finding_ids, to_status, *, scan, now, reason, extra) -> int:
    ids = list(finding_ids)
    if not ids:
        return 0
    changed = 0
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        before = list(
            Finding.objects.filter(id__in=chunk).exclude(status=to_status).values_list("id", "status")
        )
        Finding.objects.filter(id__in=[fid for fid, _ in before]).update(
            status=to_status, status_reason=reason, updated_at=now, **extra
        )
        FindingEvent.objects.bulk_create(
            [
                FindingEvent(
                    finding_id=fid,
                    at=now,
                    actor=None,
                    action=FindingEvent.Action.STATUS,
                    from_value=from_status,
                    to_value=to_status,
                    reason=reason,
                    scan=scan,
                )
                for fid, from_status in before
            ],
            batch_size=2000,
        )
        changed += len(before)
    return changed
