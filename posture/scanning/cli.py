"""`scan_manifests`: scan manifest files without a database, for CI pipelines.

Exit codes: 0 no finding at or above --fail-on; 1 there is one; 2 nothing could be read, or the
--settings file is not valid;
141 the output's reader stopped early (`| head`), as a process ended by SIGPIPE.
The JSON shape is a stable interface: later versions add checks, not new shapes (where each
finding's object lies is in the table and the SARIF output).

This module needs no Django: manage.py hands `scan_manifests` straight to it, so
a CI step starts in a fraction of the time a full Django start-up would take.
"""

import argparse
import os
import sys
from pathlib import Path
from typing import BinaryIO, TextIO

import orjson

from posture.scanning import engine
from posture.scanning.checks.registry import Severity
from posture.scanning.collectors.snapshot import STDIN_NAME, SnapshotError, read_bytes, read_paths
from posture.scanning.inventory import Inventory, cyclic_gc_paused

SEVERITY_CHOICES = [s.value for s in Severity]


def build_parser(prog: str = "manage.py scan_manifests") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Scan Kubernetes manifests (files or directories) and report findings. "
        "Touches no database.",
    )
    add_arguments(parser)
    return parser


def add_arguments(parser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a file, a directory read recursively, or - for standard input",
    )
    parser.add_argument("--format", choices=["json", "sarif", "table"], default="table")
    parser.add_argument(
        "--fail-on",
        choices=SEVERITY_CHOICES,
        default=None,
        metavar="SEVERITY",
        help="exit 1 if a finding of this severity or worse exists (" + ", ".join(SEVERITY_CHOICES) + ")",
    )
    parser.add_argument(
        "--settings",
        metavar="FILE",
        default=None,
        help="check settings in YAML or JSON, as RAMPART_CHECK_SETTINGS: disabled and enabled (check ids), "
        "severity (check id: level), options (docs/checks.md)",
    )


# The exit status of a process ended by SIGPIPE, as a shell reports it.
EXIT_READER_GONE = 128 + 13


def main(argv: list[str]) -> int:
    options = build_parser().parse_args(argv)
    try:
        return run(options.paths, output=options.format, fail_on=options.fail_on, settings=options.settings)
    except BrokenPipeError:
        # Whoever read the output stopped early (`| head`): end quietly, as Unix tools do.
        # Python flushes stdout once more at exit: into /dev/null, not the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_READER_GONE


def run(paths, *, output: str = "table", fail_on: str | None = None, settings: str | None = None,
        stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr,
        stdin: BinaryIO | None = None) -> int:  # fmt: skip
    check_settings = None
    if settings is not None:  # read first: a mistake in it is found before any scanning
        from posture.scanning import settings_file

        try:
            check_settings = settings_file.load(settings)
        except settings_file.SettingsFileError as exc:
            stderr.write(f"scan_manifests: {settings}: {exc}\n")
            return 2
    # One pause of the cyclic collector for the whole scan: between steps it would otherwise
    # walk every object read so far (0.3-0.6 s for 10,000 workloads).
    with cyclic_gc_paused():
        try:
            snapshot = read_paths(path for path in paths if path != "-")
            if "-" in paths:  # `helm template . | scan_manifests -`
                read_bytes((stdin or sys.stdin.buffer).read(), STDIN_NAME, snapshot)
        except SnapshotError as exc:
            stderr.write(f"scan_manifests: {exc}\n")
            return 2
        if not snapshot.objects:
            reason = snapshot.errors[0] if snapshot.errors else None
            detail = f"{reason.file}: {reason.reason}" if reason else "no Kubernetes objects found"
            stderr.write(f"scan_manifests: nothing could be scanned ({detail})\n")
            return 2
        inventory = Inventory.from_objects(snapshot.objects, source="manifests")
        results = engine.run(inventory, settings=check_settings)
        errors = snapshot.errors
        # Where each object was read, by the key findings name it with (the last of two alike
        # wins, as in the inventory).
        origins = dict(zip((resource.key for resource in inventory.resources), snapshot.origins, strict=True))
        # Let go of the objects while the collector is still paused: once it resumes, it would
        # walk every one of them once before they are freed (0.25 s for 10,000 workloads).
        del snapshot, inventory
    findings = sorted(
        results.findings,
        key=lambda r: (-r.severity.rank, r.check_id, r.kind, r.namespace, r.name, r.container),
    )
    if output == "json":
        document = {
            "findings": [r.as_dict() for r in findings],
            "evaluated": dict(sorted(results.evaluated.items())),
            "errors": [e.as_dict() for e in errors],
        }
        stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif output == "sarif":
        from posture.scanning import sarif

        document = sarif.document(results, findings, origins, errors, Path.cwd())
        stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _write_table(findings, results, origins, errors, stdout, stderr)

    if fail_on and any(r.severity.rank >= Severity(fail_on).rank for r in findings):
        return 1
    return 0


def _write_table(findings, results, origins, errors, stdout: TextIO, stderr: TextIO) -> None:
    rows = [("SEVERITY", "CHECK", "OBJECT", "CONTAINER", "WHERE", "MESSAGE")]
    for r in findings:
        obj = "/".join(part for part in (r.kind, r.namespace, r.name) if part)  # the cluster: "Cluster"
        origin = origins.get(r.object_key)
        where = f"{origin.file}:{origin.line}" if origin else "-"
        rows.append((r.severity.upper(), r.check_id, obj, r.container or "-", where, r.message))
    widths = [min(max(len(row[i]) for row in rows), 60) for i in range(5)]
    for row in rows:
        stdout.write(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5] + "\n"
        )
    evaluated = sum(results.evaluated.values())
    stdout.write(
        f"\n{len(findings)} findings from {evaluated} evaluations of {len(results.checks)} checks; "
        f"{len(results.exempted)} exempted by annotation.\n"
    )
    for error in errors:
        stderr.write(f"skipped {error.file} document {error.document}: {error.reason}\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
