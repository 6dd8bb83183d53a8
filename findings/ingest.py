"""Store one scan's results as findings: upsert by fingerprint, resolve, reopen.

Knows nothing of Kubernetes clients; takes the engine's results. Runs inside
the caller's transaction so that a scan's findings are stored all or none.
"""

import datetime
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from findings import exceptions, ownership, sla, triage, upsert
from findings.fingerprints import fingerprint
from findings.models import Finding, FindingStatus
from posture.scanning.engine import Result, ScanResults

MAX_EVIDENCE_CHARS = 500


@dataclass
class IngestStats:
    seen: int = 0
    new: int = 0
    resolved: int = 0
    reopened: int = 0
    accepted_by_rules: int = 0


def _text(value: str, limit: int | None = None) -> str:
    # PostgreSQL text cannot hold NUL; a hostile manifest must not fail the scan.
    value = value.replace("\x00", "")
    return value if limit is None or len(value) <= limit else value[:limit] + "…"


def evidence_value(value):
    """A JSON-safe, bounded copy of the offending value."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        text = _text(json.dumps(value, default=str, sort_keys=True))
        return json.loads(text) if len(text) <= MAX_EVIDENCE_CHARS else text[:MAX_EVIDENCE_CHARS] + "…"
    return _text(str(value), MAX_EVIDENCE_CHARS)


def _staged(results: Iterable[Result], now: datetime.datetime) -> Iterator[upsert.StagedFinding]:
    # The same object twice in one snapshot yields the same fingerprint: keep the first.
    seen: set[str] = set()
    due = {}
    for r in results:
        key = fingerprint(r.check_id, r.kind, r.namespace, r.name, r.container)
        if key in seen:
            continue
        seen.add(key)
        severity = str(r.severity)
        if severity not in due:
            due[severity] = sla.due_at(severity, now)
        yield upsert.StagedFinding(
            fingerprint=key,
            check_id=r.check_id,
            severity=severity,
            category=r.category,
            kind=_text(r.kind, 64),
            namespace=_text(r.namespace, 253),
            name=_text(r.name, 253),
            container=_text(r.container, 253),
            message=_text(r.message, 2000),
            evidence={"path": _text(r.path, 1000), "value": evidence_value(r.value)},
            labels={_text(str(k), 253): _text(str(v), 253) for k, v in (r.labels or {}).items()},
            due_at=due[severity],
        )


def ingest(scan, results: ScanResults, *, now: datetime.datetime) -> IngestStats:
    """Upsert what the scan saw; resolve what it no longer sees where it looked.

    A finding is resolved only if its check ran and was assessed, and its
    object's kind was readable: a scan that could not read a resource type
    never resolves findings that depend on it.
    """
    cluster = scan.cluster
    merged = upsert.merge(scan, _staged(results.findings, now), now=now)
    stats = IngestStats(seen=len(merged.seen_ids), new=len(merged.new_ids))
    of_cluster = Finding.objects.filter(cluster=cluster)

    stats.reopened = triage.reopen_returned(of_cluster.filter(last_seen_scan=scan), scan=scan, now=now)

    assessed = set(results.checks) - set(results.not_assessed)
    gone = (
        of_cluster.filter(status__in=FindingStatus.live(), check_id__in=assessed)
        .exclude(last_seen_scan=scan)
        .exclude(kind__in=list(results.coverage_gaps))
    )
    stats.resolved = triage.resolve_unseen(gone, scan=scan, now=now)

    ownership.assign_new(cluster, scan)
    stats.accepted_by_rules = exceptions.apply_rules(cluster, scan=scan, now=now)
    return stats
