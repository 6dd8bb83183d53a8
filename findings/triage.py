"""The only code that writes Finding.status (see the table in Finding's docstring).

Functions take model instances, querysets and plain values — never requests or
forms — and record every change as a FindingEvent in the same transaction.
Bulk changes are two set-based statements (history INSERT ... SELECT, then
UPDATE), so thousands of findings change in one request.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from accounts import audit
from findings import sla, summary
from findings.models import Finding, FindingEvent, FindingStatus
from findings.querysets import triage_changed

S = FindingStatus

# (from, to) pairs a user may make. System transitions are the functions below.
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
    """A change the transition table does not allow; the message says why, for the user."""


@dataclass(frozen=True)
class BulkOutcome:
    changed: int
    refused: int  # findings whose current status does not allow the change


def _label(status: str) -> str:
    return S(status).label.lower()


def _validate_request(to_status: str, reason: str, until: datetime | None, now: datetime) -> None:
    if to_status not in S.values:
        raise TransitionRefused(f"unknown status {to_status!r}")
    if to_status == S.RESOLVED:
        raise TransitionRefused("only a complete scan that no longer sees a finding can resolve it")
    if to_status in REASON_REQUIRED and not reason:
        raise TransitionRefused(f"marking a finding {_label(to_status)} needs a reason")
    if to_status == S.RISK_ACCEPTED:
        if until is None:
            raise TransitionRefused("accepting a risk needs an expiry date")
        if until <= now:
            raise TransitionRefused("the risk acceptance must expire in the future")
        maximum = settings.RAMPART_MAX_RISK_ACCEPTANCE_DAYS
        if until - now > timedelta(days=maximum):
            raise TransitionRefused(f"a risk can be accepted for at most {maximum} days")


def acceptance_dates(today=None) -> tuple[str, str]:
    """The first and last day a risk may be accepted until (ISO dates), for date inputs' min and max:
    the acceptance ends at the start of the day chosen, so today is already too early."""
    today = today or timezone.localdate()
    maximum = settings.RAMPART_MAX_RISK_ACCEPTANCE_DAYS
    return (today + timedelta(days=1)).isoformat(), (today + timedelta(days=maximum)).isoformat()


def _fields_for(to_status: str, reason: str, until: datetime | None, now: datetime) -> dict:
    fields = {"status": to_status, "status_reason": reason, "updated_at": now}
    fields["risk_accepted_until"] = until if to_status == S.RISK_ACCEPTED else None
    if to_status != S.RISK_ACCEPTED:
        fields["exception_rule"] = None
    return fields


def change_status(
    finding: Finding,
    to_status: str,
    *,
    actor,
    reason: str = "",
    until: datetime | None = None,
    now: datetime | None = None,
) -> Finding:
    """One user's status change on one finding."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    _validate_request(to_status, reason, until, now)
    if (finding.status, to_status) not in USER_TRANSITIONS:
        raise TransitionRefused(
            f"a finding that is {_label(finding.status)} cannot become {_label(to_status)}"
        )
    outcome = bulk_change_status(
        Finding.objects.filter(pk=finding.pk), to_status, actor=actor, reason=reason, until=until, now=now
    )
    if outcome.changed != 1:  # someone changed it in the meantime
        raise TransitionRefused("the finding changed while you were editing it; reload and try again")
    finding.refresh_from_db()
    return finding


def bulk_change_status(
    findings: QuerySet,
    to_status: str,
    *,
    actor,
    reason: str = "",
    until: datetime | None = None,
    now: datetime | None = None,
) -> BulkOutcome:
    """A user's status change on many findings; those that may not make it are counted, not changed."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    _validate_request(to_status, reason, until, now)
    allowed_from = [from_status for from_status, to in USER_TRANSITIONS if to == to_status]
    with transaction.atomic():
        total = findings.count()
        clusters = set(findings.order_by().values_list("cluster_id", flat=True).distinct())
        target = _one_finding(findings.filter(status__in=allowed_from))
        changed = _record_and_update(
            findings.filter(status__in=allowed_from),
            to_status,
            actor=actor,
            reason=reason,
            now=now,
            fields=_fields_for(to_status, reason, until, now),
        )
        if changed:
            audit.record(
                "triage.status_changed",
                actor=actor,
                target=target,
                to_status=to_status,
                findings=changed,
                reason=reason,
            )
            summary.recount_latest_scans_soon(clusters)
    return BulkOutcome(changed=changed, refused=total - changed)


def assign(findings: QuerySet, assignee, *, actor, now: datetime | None = None) -> int:
    """Assign (or unassign, with None) many findings; writes a history row for each change."""
    now = now or timezone.now()
    to_value = assignee.get_username() if assignee else ""
    changing = findings.exclude(assignee=assignee) if assignee else findings.filter(assignee__isnull=False)
    with transaction.atomic():
        _insert_events(
            changing,
            old_value="assignee__username",
            action=FindingEvent.Action.ASSIGNED,
            to_value=to_value,
            actor=actor,
            reason="",
            scan=None,
            now=now,
        )
        target = _one_finding(changing)
        changed = changing.update(assignee=assignee, updated_at=now)
        if changed:
            transaction.on_commit(triage_changed)  # the overview's cached counts per assignee
        if changed and actor is not None:  # ownership rules assign as the system, already in history
            audit.record("triage.assigned", actor=actor, target=target, assignee=to_value, findings=changed)
        return changed


def _one_finding(findings: QuerySet) -> Finding | None:
    """The audit row's target when a change concerns one finding (many are counted in its details)."""
    rows = list(findings.order_by().only("pk", "check_id", "kind", "namespace", "name")[:2])
    return rows[0] if len(rows) == 1 else None


# --- System transitions, set-based; the ingest calls them inside its transaction ---


def resolve_unseen(
    findings: QuerySet, *, scan, now: datetime, reason: str = "no longer seen by a complete scan"
) -> int:
    """Live findings that a complete-enough scan no longer sees become resolved."""
    return _record_and_update(
        findings.filter(status__in=S.live()),
        S.RESOLVED,
        actor=None,
        scan=scan,
        now=now,
        reason=reason,
        fields={
            "status": S.RESOLVED,
            "status_reason": "",
            "resolved_at": now,
            "updated_at": now,
            "risk_accepted_until": None,
            "exception_rule": None,
        },
    )


def reopen_returned(findings: QuerySet, *, scan, now: datetime) -> int:
    """Resolved findings that a scan sees again are open again, with a new due date; history kept."""
    returned = findings.filter(status=S.RESOLVED)
    count = 0
    for severity in returned.order_by().values_list("severity", flat=True).distinct():
        count += _record_and_update(
            returned.filter(severity=severity),
            S.OPEN,
            actor=None,
            scan=scan,
            now=now,
            reason="seen again after it was resolved",
            fields={
                "status": S.OPEN,
                "status_reason": "",
                "resolved_at": None,
                "updated_at": now,
                "due_at": sla.due_at(severity, now),
            },
        )
    return count


def accept_by_rule(findings: QuerySet, rule, *, scan=None, now: datetime) -> int:
    """Open or acknowledged findings that an active exception rule matches."""
    reason = f"exception rule #{rule.pk}: {rule.reason}"
    return _record_and_update(
        findings.filter(status__in=[S.OPEN, S.ACKNOWLEDGED]),
        S.RISK_ACCEPTED,
        actor=None,
        scan=scan,
        now=now,
        reason=reason,
        fields={
            "status": S.RISK_ACCEPTED,
            "status_reason": reason,
            "risk_accepted_until": rule.expires_at,
            "exception_rule": rule,
            "updated_at": now,
        },
    )


def release_rule(rule, *, actor, now: datetime) -> dict[str, int]:
    """A revoked exception rule gives its findings back in the state it took them in: acknowledged
    findings stay acknowledged (someone had looked at them), the others return to open. Returns how
    many went back to each."""
    held = Finding.objects.filter(status=S.RISK_ACCEPTED, exception_rule=rule)
    # Each finding's latest move into accepted risk: the rule's, with the status it came from.
    acceptance = FindingEvent.objects.filter(
        finding_id=OuterRef("pk"), action=FindingEvent.Action.STATUS, to_value=S.RISK_ACCEPTED
    ).order_by("-at", "-id")
    held = held.annotate(accepted_from=Subquery(acceptance.values("from_value")[:1]))
    released = {}
    for before, findings in (
        (S.ACKNOWLEDGED, held.filter(accepted_from=S.ACKNOWLEDGED)),
        (S.OPEN, held.exclude(accepted_from=S.ACKNOWLEDGED)),
    ):
        released[before] = _record_and_update(
            Finding.objects.filter(pk__in=findings.values("pk")),
            before,
            actor=actor,
            scan=None,
            now=now,
            reason=f"exception rule #{rule.pk} was revoked",
            fields={
                "status": before,
                "status_reason": "",
                "risk_accepted_until": None,
                "exception_rule": None,
                "updated_at": now,
            },
        )
    return released


def expire_risk_acceptances(now: datetime | None = None) -> int:
    """Accepted risks (by hand or by an exception rule) whose expiry has passed return to open."""
    now = now or timezone.now()
    expired = Finding.objects.filter(status=S.RISK_ACCEPTED, risk_accepted_until__lte=now)
    with transaction.atomic():
        clusters = set(expired.order_by().values_list("cluster_id", flat=True).distinct())
        reopened = _record_and_update(
            expired,
            S.OPEN,
            actor=None,
            scan=None,
            now=now,
            reason="risk acceptance expired",
            fields={
                "status": S.OPEN,
                "status_reason": "",
                "risk_accepted_until": None,
                "exception_rule": None,
                "updated_at": now,
            },
        )
        if reopened:
            summary.recount_latest_scans_soon(clusters)
        return reopened


def _record_and_update(findings: QuerySet, to_status, *, actor, now, reason, fields, scan=None) -> int:
    changing = findings.exclude(status=to_status)
    _insert_events(
        changing,
        old_value="status",
        action=FindingEvent.Action.STATUS,
        to_value=to_status,
        actor=actor,
        reason=reason,
        scan=scan,
        now=now,
    )
    changed = changing.update(**fields)
    if changed:
        transaction.on_commit(triage_changed)  # the pages' cached counts, whichever path changed them
    return changed


def _insert_events(findings: QuerySet, *, old_value: str, action, to_value, actor, reason, scan, now) -> None:
    """INSERT ... SELECT one history row per finding, ``old_value`` naming the field that changes."""
    rows = findings.order_by().annotate(event_finding=F("id"), event_old=F(old_value))
    try:
        select_sql, select_params = rows.values("event_finding", "event_old").query.sql_with_params()
    except EmptyResultSet:  # e.g. filtered on an empty list: nothing can match
        return
    table = FindingEvent._meta.db_table
    # Table name from the model; every value is a bound parameter.
    sql = (
        f"INSERT INTO {table} (finding_id, at, actor_id, action, from_value, to_value, reason, scan_id) "  # noqa: S608
        f"SELECT q.event_finding, %s, %s, %s, COALESCE(q.event_old, ''), %s, %s, %s FROM ({select_sql}) AS q"
    )
    params = [
        now,
        actor.pk if actor else None,
        action,
        to_value,
        reason,
        scan.pk if scan else None,
        *select_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
