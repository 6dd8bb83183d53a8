"""The per-scan summary row: counts, score, grade and framework compliance.

Score (DESIGN.md, shown on the page that displays it): the severity-weighted
share of (check x object) evaluations that passed. False positives count as
passed; accepted risks and annotation exemptions count as failed and are shown
beside the score.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count

from findings.models import Finding, FindingStatus
from posture.scanning.checks.registry import Check
from posture.scanning.engine import ScanResults

GRADES = ((90, "A"), (80, "B"), (70, "C"), (60, "D"))
FRAMEWORKS = {
    "pss-baseline": "Pod Security Standards: baseline",
    "pss-restricted": "Pod Security Standards: restricted",
    "cis": "CIS Kubernetes Benchmark",
    "nsa": "NSA/CISA Kubernetes Hardening Guide",
}


def grade_for(score: float | None) -> str:
    if score is None:
        return ""
    for threshold, grade in GRADES:
        if score >= threshold:
            return grade
    return "F"


def frameworks_of(check: Check) -> list[str]:
    refs = check.frameworks
    found = []
    if refs.pss == "baseline":
        found.append("pss-baseline")
    if refs.pss in ("baseline", "restricted"):
        found.append("pss-restricted")  # restricted includes every baseline control
    if refs.cis:
        found.append("cis")
    if refs.nsa:
        found.append("nsa")
    return found


@dataclass(frozen=True)
class Score:
    score: float | None
    grade: str
    framework_compliance: dict


def compute_score(results: ScanResults, false_positives: set[tuple[str, str, str, str]]) -> Score:
    """``false_positives``: (check id, kind, namespace, name) judged not a problem."""
    failing: dict[str, set] = defaultdict(set)
    for result in (*results.findings, *results.exempted):
        key = (result.check_id, *result.object_key)
        if key not in false_positives:
            failing[result.check_id].add(result.object_key)

    weighted_total = weighted_failed = 0
    controls: dict[str, list[int]] = {name: [0, 0] for name in FRAMEWORKS}  # [controls, passing]
    for check_id, check in results.checks.items():
        if check_id in results.not_assessed:
            continue
        evaluated = results.evaluated.get(check_id, 0)
        weight = check.severity.weight
        failed = min(len(failing.get(check_id, ())), evaluated)
        weighted_total += weight * evaluated
        weighted_failed += weight * failed
        if evaluated:
            for framework in frameworks_of(check):
                controls[framework][0] += 1
                controls[framework][1] += 0 if failed else 1

    score = None if weighted_total == 0 else round(100.0 * (1 - weighted_failed / weighted_total), 1)
    compliance = {
        name: {
            "controls": total,
            "passing": passing,
            "percent": round(100.0 * passing / total, 1) if total else None,
        }
        for name, (total, passing) in controls.items()
    }
    return Score(score=score, grade=grade_for(score), framework_compliance=compliance)


COUNT_FIELDS = (
    "findings_count",
    "counts_by_severity",
    "counts_by_category",
    "counts_by_namespace",
    "counts_by_check",
    "accepted_risk_count",
    "accepted_by_severity",
)


def count_findings(scan) -> None:
    """Fill the scan's counts from its findings' statuses now (caller saves).

    One grouped query, so that recounting after a triage change stays cheap.
    False positives are not counted; accepted risks are (and counted apart).
    """
    counted = (
        Finding.objects.filter(last_seen_scan=scan)
        .exclude(status__in=(FindingStatus.RESOLVED, FindingStatus.FALSE_POSITIVE))
        .order_by()
        .values_list("check_id", "namespace", "severity", "category", "status")
        .annotate(count=Count("pk"))
    )
    by_severity, by_category, by_namespace, by_check = Counter(), Counter(), Counter(), Counter()
    accepted_by_severity = Counter()
    total = accepted = 0
    needs_work = (FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED)
    for check_id, namespace, severity, category, status, count in counted:
        total += count
        by_severity[severity] += count
        by_category[category] += count
        by_namespace[namespace] += count
        if status in needs_work:
            by_check[check_id] += count
        elif status == FindingStatus.RISK_ACCEPTED:
            accepted += count
            accepted_by_severity[severity] += count
    scan.findings_count = total
    scan.counts_by_severity = dict(by_severity)
    scan.counts_by_category = dict(by_category)
    scan.counts_by_namespace = dict(by_namespace.most_common(200))
    scan.counts_by_check = dict(by_check)
    scan.accepted_risk_count = accepted
    scan.accepted_by_severity = dict(accepted_by_severity)


def recount_latest_scans_soon(cluster_ids) -> None:
    """After a triage change commits, recount in the background: a bulk change of thousands of
    findings must not wait for a grouped query over every finding of their clusters."""
    from django.db import transaction

    from findings.tasks import recount_latest_scans_task

    ids = sorted(set(cluster_ids))
    if ids:
        transaction.on_commit(lambda: recount_latest_scans_task.delay(ids))


def recount_latest_scans(cluster_ids) -> None:
    """After a triage change: the counts pages read from each cluster's latest scan follow it.

    The score stays the scan's own (it needs the scan's evaluations); the next scan
    recomputes it with the new false positives.
    """
    from posture.models import Cluster, Scan, ScanStatus

    latest = Cluster.objects.filter(pk__in=list(cluster_ids)).values("last_scan_id")
    scored = (ScanStatus.SUCCEEDED, ScanStatus.PARTIAL)
    for scan in Scan.objects.filter(pk__in=latest, status__in=scored):
        count_findings(scan)
        scan.save(update_fields=list(COUNT_FIELDS))


def summarize(scan, results: ScanResults) -> None:
    """Fill the scan's summary fields from its stored findings (caller saves)."""
    count_findings(scan)
    false_positives = set(
        Finding.objects.filter(last_seen_scan=scan, status=FindingStatus.FALSE_POSITIVE).values_list(
            "check_id", "kind", "namespace", "name"
        )
    )
    scan.exempted_count = sum(results.exempted_evaluations.values())
    score = compute_score(results, false_positives)
    scan.score = score.score
    scan.grade = score.grade
    scan.framework_compliance = score.framework_compliance
