"""How often Rampart agrees with other scanners' own labelled test fixtures.

The corpus (../shared/corpus, see its SOURCES.md) holds inputs from the test suites
of Polaris, kube-score and kubescape's regolibrary, each labelled pass or fail for
one of that tool's checks, and mapped to a generic concept. For every label whose
concept Rampart implements and that holds under the tool's default configuration,
the label's files are scanned together (snapshot collector + engine) and the
concept's Rampart checks decide pass or fail for the input as a whole.

Where Rampart means something else than a tool, docs/checks.md ("Where tools
disagree") says what and why; the mapping below only says which Rampart checks a
concept corresponds to, never which answer to give.
"""

import json
import sys
from collections import defaultdict
from datetime import UTC, datetime
from functools import cache

import pytest

from posture.scanning import engine
from posture.scanning.checks import load_catalogue
from posture.scanning.collectors.snapshot import read_paths
from posture.scanning.inventory import Inventory
from tests.corpus import CORPUS

INDEX = CORPUS / "index.json"
# A fixed clock: secret ages and version support must not drift with the day the tests run.
NOW = datetime(2026, 11, 26, tzinfo=UTC)

# Corpus concepts named differently from the Rampart check(s) that implement them.
# An input fails the concept when any of the listed checks fails on it.
CONCEPT_CHECKS: dict[str, tuple[str, ...]] = {
    "host-pid-or-ipc": ("host-pid", "host-ipc"),
    "no-cpu-limit-or-request": ("no-cpu-limit", "no-cpu-request"),
    "no-memory-limit-or-request": ("no-memory-limit", "no-memory-request"),
    "no-resource-limits-or-requests": (
        "no-cpu-limit",
        "no-memory-limit",
        "no-cpu-request",
        "no-memory-request",
    ),
    "no-resource-limits": ("no-cpu-limit", "no-memory-limit"),
    "sensitive-service-exposed": ("sensitive-interface-exposed",),
}
# One tool's check that covers what Rampart splits into several checks.
TOOL_CHECKS: dict[tuple[str, str], tuple[str, ...]] = {
    # kubescape counts a whole Secret poured into the environment (envFrom) as a credential
    # in env vars; Rampart reports that as secret-ref-in-env, literals as secret-in-env.
    ("kubescape-regolibrary", "rule-credentials-in-env-var"): ("secret-in-env", "secret-ref-in-env"),
}
# Concepts sharing a Rampart check's name with another meaning: reported, not asserted.
DIFFERENT_MEANING: dict[str, str] = {
    "service-exposed-externally": (
        "the corpus means 'a workload reachable from outside by any route' (Ingress, Gateway API, "
        "Istio, NodePort, LoadBalancer); Rampart's check of that name is about LoadBalancers open "
        "to any source (Ingresses are judged by ingress-no-tls/-rate-limit/-waf, NodePorts by "
        "service-nodeport)"
    ),
}
# Single labels that Kubernetes' own code contradicts: a tool's bug, not a difference of meaning.
# Reported with the rest, not asserted. Each is explained in docs/checks.md.
LABEL_CONTRADICTS_KUBERNETES: dict[str, str] = {
    (
        "kubescape-regolibrary:rule-can-portforward-v1:"
        "regolibrary/rule-can-portforward-v1/clusterrole-clusterrolebinding"
    ): (
        "the fixture's role grants `pods/*`, which the RBAC authorizer (ResourceMatches) reads as a "
        "literal resource name: it grants no port-forward"
    ),
}
MIN_OVERALL = 95.0
MIN_PER_CONCEPT = 80.0

pytestmark = pytest.mark.skipif(not INDEX.is_file(), reason=f"the scanner corpus is not at {CORPUS}")


def _checks_for(entry: dict, catalogue) -> tuple[str, ...]:
    override = TOOL_CHECKS.get((entry["tool"], entry["check_id"]))
    if override:
        return override
    concept = entry.get("concept")
    if concept in CONCEPT_CHECKS:
        return CONCEPT_CHECKS[concept]
    return (concept,) if concept in catalogue else ()


@cache
def _failing_checks(files: tuple[str, ...]) -> frozenset[str]:
    snapshot = read_paths([CORPUS / name for name in files])
    inventory = Inventory.from_objects(snapshot.objects, source="corpus")
    results = engine.run(inventory, now=NOW)
    assert not results.errors, results.errors
    return frozenset(result.check_id for result in results.findings)


def evaluate_corpus() -> list[dict]:
    catalogue = load_catalogue()
    index = json.loads(INDEX.read_text())
    rows = []
    for entry in index["fixtures"]:
        checks = _checks_for(entry, catalogue)
        if not checks or not entry.get("default_config"):
            continue
        failed = bool(_failing_checks(tuple(entry["files"])) & set(checks))
        rows.append(
            {
                "id": entry["id"],
                "concept": entry["concept"],
                "checks": checks,
                "expected": entry["expected"],
                "actual": "fail" if failed else "pass",
            }
        )
    return rows


def agreement_table(rows: list[dict]) -> tuple[str, float, dict[str, float]]:
    by_concept: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        if row["id"] not in LABEL_CONTRADICTS_KUBERNETES:
            by_concept[row["concept"]].append(row["expected"] == row["actual"])
    lines = [f"{'concept':34} {'fixtures':>8} {'agree':>6} {'percent':>8}"]
    percents = {}
    for concept in sorted(by_concept):
        outcomes = by_concept[concept]
        percents[concept] = 100.0 * sum(outcomes) / len(outcomes)
        note = "  (different meaning, not asserted)" if concept in DIFFERENT_MEANING else ""
        lines.append(f"{concept:34} {len(outcomes):8} {sum(outcomes):6} {percents[concept]:7.1f}%{note}")
    asserted = [
        row
        for row in rows
        if row["concept"] not in DIFFERENT_MEANING and row["id"] not in LABEL_CONTRADICTS_KUBERNETES
    ]
    agree = sum(row["expected"] == row["actual"] for row in asserted)
    overall = 100.0 * agree / len(asserted)
    everything = 100.0 * sum(row["expected"] == row["actual"] for row in rows) / len(rows)
    lines.append(f"{'overall (asserted concepts)':34} {len(asserted):8} {agree:6} {overall:7.1f}%")
    lines.append(f"{'overall (every mapped concept)':34} {len(rows):8} {'':6} {everything:7.1f}%")
    return "\n".join(lines), overall, percents


def test_rampart_agrees_with_the_other_scanners_labels(capsys):
    rows = evaluate_corpus()
    table, overall, percents = agreement_table(rows)
    disagreements = [
        f"  {r['id']}: expected {r['expected']}, Rampart says {r['actual']}"
        + (" (label contradicts Kubernetes, not asserted)" if r["id"] in LABEL_CONTRADICTS_KUBERNETES else "")
        for r in rows
        if r["expected"] != r["actual"]
    ]
    with capsys.disabled():
        sys.stdout.write(f"\n{table}\ndisagreements (each explained in docs/checks.md):\n")
        sys.stdout.write("\n".join(disagreements) + "\n")
    assert overall >= MIN_OVERALL
    low = {c: p for c, p in percents.items() if p < MIN_PER_CONCEPT and c not in DIFFERENT_MEANING}
    assert not low, f"concepts below {MIN_PER_CONCEPT}%: {low}"


def test_every_mapped_concept_names_real_checks():
    catalogue = load_catalogue()
    for checks in (*CONCEPT_CHECKS.values(), *TOOL_CHECKS.values()):
        assert all(check in catalogue for check in checks)
    assert all(concept in catalogue for concept in DIFFERENT_MEANING)


def test_every_label_set_aside_is_in_the_corpus_and_still_disagrees():
    # Once the corpus fixes a label, it must count again.
    rows = {row["id"]: row for row in evaluate_corpus()}
    for fixture in LABEL_CONTRADICTS_KUBERNETES:
        assert fixture in rows, fixture
        assert rows[fixture]["expected"] != rows[fixture]["actual"], fixture
