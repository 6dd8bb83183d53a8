"""`scan_manifests --format sarif`: findings as SARIF 2.1.0, the format code-scanning tools read.

GitHub code scanning (upload-sarif), GitLab and Azure DevOps show each result on the line of
the manifest it is about and track it across runs by its fingerprint, the same one Rampart's
dashboard uses. Objects exempted by annotation are results too, suppressed "in source" with the
annotation's reason: counted and shown, never dropped. What concerns the whole cluster (no
external secret manager, say) has no file and carries only a logical location.

No Django here, as in the rest of the command (see cli.py).
"""

import importlib.metadata
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote

from findings.fingerprints import fingerprint
from posture.scanning.checks.registry import Check, Severity
from posture.scanning.collectors.snapshot import STDIN_NAME, DocumentError, Origin
from posture.scanning.engine import Result, ScanResults

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SOURCE_ROOT = "%SRCROOT%"  # files are given relative to where the command ran, as CI checks out

_LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub ranks security alerts by this score: 9.0 and above critical, 7.0 high, 4.0 medium, else low.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}


def document(
    results: ScanResults,
    findings: Iterable[Result],
    origins: Mapping[tuple[str, str, str], Origin],
    errors: Iterable[DocumentError],
    cwd: Path,
) -> dict:
    """The SARIF log of one scan: one run, a rule for every check that ran."""
    checks = sorted(results.checks.values(), key=lambda check: check.id)
    rule_index = {check.id: index for index, check in enumerate(checks)}
    files = _Files(cwd)
    reported = [(result, None) for result in findings]
    reported += [(result, result.exempt_reason or "exempted by annotation") for result in results.exempted]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Rampart",
                        "version": _version(),
                        "rules": [_rule(check, results.severities[check.id]) for check in checks],
                    }
                },
                "originalUriBaseIds": {SOURCE_ROOT: {"uri": cwd.as_uri() + "/"}},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [_skipped(error, files) for error in errors],
                    }
                ],
                "results": [
                    _result(
                        result, rule_index[result.check_id], origins.get(result.object_key), files, exempt
                    )
                    for result, exempt in reported
                ],
                "properties": {"evaluated": dict(sorted(results.evaluated.items()))},
            }
        ],
    }


def _rule(check: Check, severity: Severity) -> dict:
    """``severity``: the check's in this run (a --settings file may override the catalogue's)."""
    frameworks = check.frameworks
    tags = ["security", "kubernetes", str(check.category)]
    tags += [f"pss-{frameworks.pss}"] if frameworks.pss else []
    tags += [f"cis-{section}" for section in frameworks.cis]
    tags += [f"mitre-{technique}" for technique in frameworks.mitre]
    properties = {"tags": tags, "precision": "high"}
    if severity in _SECURITY_SEVERITY:
        properties["security-severity"] = _SECURITY_SEVERITY[severity]
    return {
        "id": check.id,
        "name": "".join(word.capitalize() for word in check.id.split("-")),
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": _unwrapped(check.description)},
        "help": {"text": check.remediation.strip(), "markdown": check.remediation.strip()},
        "defaultConfiguration": {"level": _LEVELS[severity]},
        "properties": properties,
    }


def _unwrapped(text: str) -> str:
    """The catalogue's text is wrapped for the source file: one line per paragraph here."""
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in text.strip().split("\n\n"))


def _result(
    result: Result, rule_index: int, origin: Origin | None, files: "_Files", exempt: str | None
) -> dict:
    subject = "/".join(part for part in (result.kind, result.namespace, result.name) if part)
    location: dict = {
        "logicalLocations": [
            {
                "name": result.name or result.kind,
                "fullyQualifiedName": subject
                + (f" container {result.container}" if result.container else ""),
                "kind": "resource",
            }
        ]
    }
    if origin is not None and origin.file != STDIN_NAME:
        location["physicalLocation"] = {
            "artifactLocation": files.location(origin.file),
            "region": {"startLine": origin.line},
        }
    reported = {
        "ruleId": result.check_id,
        "ruleIndex": rule_index,
        "level": _LEVELS[result.severity],
        "message": {"text": f"{subject}: {result.message}"},
        "locations": [location],
        "partialFingerprints": {
            "rampartFinding/v1": fingerprint(
                result.check_id, result.kind, result.namespace, result.name, result.container
            )
        },
        "properties": {"path": result.path},
    }
    if exempt is not None:
        reported["suppressions"] = [{"kind": "inSource", "justification": exempt}]
    return reported


def _skipped(error: DocumentError, files: "_Files") -> dict:
    where = f"document {error.document}" if error.document else "the file"
    notification = {"level": "warning", "message": {"text": f"{where} was skipped: {error.reason}"}}
    if error.file != STDIN_NAME:
        notification["locations"] = [{"physicalLocation": {"artifactLocation": files.location(error.file)}}]
    return notification


class _Files:
    """Artifact locations: relative to the source root where the file lies under it."""

    def __init__(self, cwd: Path):
        self.cwd = cwd.resolve()

    def location(self, file: str) -> dict:
        path = Path(file)
        absolute = path if path.is_absolute() else self.cwd / path
        try:
            relative = absolute.resolve().relative_to(self.cwd)
        except ValueError:
            return {"uri": absolute.resolve().as_uri()}
        return {"uri": quote(relative.as_posix()), "uriBaseId": SOURCE_ROOT}


def _version() -> str:
    try:
        return importlib.metadata.version("rampart")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "0.0.0"
