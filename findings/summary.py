"""The per-scan summary row: counts, score, grade and framework compliance.

Score (DESIGN.md, shown on the page that displays it): the severity-weighted
share of (check x object) evaluations that passed. False positives count as
passed; accepted risks and annotation exemptions count as failed and are shown
beside the score.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

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


def summarize(scan, results: ScanResults) -> None:
    """Fill the scan's summary fields from its stored findings (caller saves)."""
    seen = Finding.objects.filter(last_seen_scan=scan).exclude(status=FindingStatus.RESOLVED)
    rows = list(seen.values_list("check_id", "kind", "namespace", "name", "severity", "category", "status"))
    false_positives = {
        (check_id, kind, namespace, name)
        for check_id, kind, namespace, name, _sev, _cat, status in rows
        if status == FindingStatus.FALSE_POSITIVE
    }
    counted = [row for row in rows if row[6] != FindingStatus.FALSE_POSITIVE]
    scan.findings_count = len(counted)
    scan.counts_by_severity = dict(Counter(row[4] for row in counted))
    scan.counts_by_category = dict(Counter(row[5] for row in counted))
    scan.counts_by_namespace = dict(Counter(row[2] for row in counted).most_common(200))
    needs_work = (FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED)
    scan.counts_by_check = dict(Counter(row[0] for row in counted if row[6] in needs_work))
    scan.accepted_risk_count = sum(1 for row in counted if row[6] == FindingStatus.RISK_ACCEPTED)
    scan.exempted_count = sum(results.exempted_evaluations.values())
    score = compute_score(results, false_positives)
    scan.score = score.score
    scan.grade = score.grade
    scan.framework_compliance = score.framework_compliance
