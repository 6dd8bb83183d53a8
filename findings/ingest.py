"""Store one scan's results as findings: upsert by fingerprint, resolve, reopen.

Knows nothing of Kubernetes clients; takes the engine's results. Runs inside
the caller's transaction so that a scan's findings are stored all or none.
"""

import datetime
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

from findings import triage
from findings.fingerprints import fingerprint
from findings.models import Finding, FindingStatus
from posture.scanning.engine import Result, ScanResults

MAX_EVIDENCE_CHARS = 500
BATCH_SIZE = 2000


@dataclass
class IngestStats:
    seen: int = 0
    new: int = 0
    resolved: int = 0
    reopened: int = 0


def evidence_value(value):
    """A JSON-safe, bounded copy of the offending value."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        text = json.dumps(value, default=str, sort_keys=True)
        return value if len(text) <= MAX_EVIDENCE_CHARS else text[:MAX_EVIDENCE_CHARS] + "…"
    text = str(value)
    return text if len(text) <= MAX_EVIDENCE_CHARS else text[:MAX_EVIDENCE_CHARS] + "…"


def _unique_by_fingerprint(results: Iterable[Result]) -> dict[str, Result]:
    # The same object twice in one snapshot yields the same fingerprint: keep one.
    unique: dict[str, Result] = {}
    for result in results:
        key = fingerprint(result.check_id, result.kind, result.namespace, result.name, result.container)
        unique.setdefault(key, result)
    return unique


def ingest(scan, results: ScanResults, *, now: datetime.datetime) -> IngestStats:
    """Upsert what the scan saw; resolve what it no longer sees where it looked.

    A finding is resolved only if its check ran and was assessed, and its
    object's kind was readable: a scan that could not read a resource type
    never resolves findings that depend on it.
    """
    cluster = scan.cluster
    seen = _unique_by_fingerprint(results.findings)
    existing = {
        key: (finding_id, status, check_id, kind)
        for key, finding_id, status, check_id, kind in Finding.objects.filter(cluster=cluster)
        .values_list("fingerprint", "id", "status", "check_id", "kind")
        .iterator(chunk_size=BATCH_SIZE)
    }
    stats = IngestStats(seen=len(seen))

    Finding.objects.bulk_create(
        (_new_row(scan, key, result, now) for key, result in seen.items()),
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["cluster", "fingerprint"],
        update_fields=[
            "severity",
            "category",
            "message",
            "evidence",
            "last_seen_at",
            "last_seen_scan",
            "updated_at",
        ],
    )
    stats.new = sum(1 for key in seen if key not in existing)

    returned = [
        existing[key][0] for key in seen if key in existing and existing[key][1] == FindingStatus.RESOLVED
    ]
    stats.reopened = triage.reopen_returned(returned, scan=scan, now=now)

    live = set(FindingStatus.live())
    assessed = set(results.checks) - set(results.not_assessed)
    gaps = set(results.coverage_gaps)
    gone = [
        finding_id
        for key, (finding_id, status, check_id, kind) in existing.items()
        if status in live and key not in seen and check_id in assessed and kind not in gaps
    ]
    stats.resolved = triage.resolve_unseen(gone, scan=scan, now=now)
    return stats


def _new_row(scan, key: str, r: Result, now: datetime.datetime) -> Finding:
    return Finding(
        cluster=scan.cluster,
        fingerprint=key,
        check_id=r.check_id,
        severity=str(r.severity),
        category=r.category,
        kind=r.kind,
        namespace=r.namespace,
        name=r.name,
        container=r.container,
        message=r.message,
        evidence={"path": r.path, "value": evidence_value(r.value)},
        status=FindingStatus.OPEN,
        first_seen_at=now,
        last_seen_at=now,
        first_seen_scan=scan,
        last_seen_scan=scan,
        updated_at=now,
    )
