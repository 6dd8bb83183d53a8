"""Scan manifest files without a database: for CI pipelines and for measuring detection.

Exit codes: 0 no finding at or above --fail-on; 1 there is one; 2 nothing could be read.
The JSON shape is a stable interface: later versions add checks, not new shapes.
"""

import sys

import orjson
from django.core.management.base import BaseCommand, CommandError

from posture.scanning import engine
from posture.scanning.checks.registry import Severity
from posture.scanning.collectors.snapshot import SnapshotError, read_paths
from posture.scanning.inventory import Inventory

SEVERITY_CHOICES = [s.value for s in Severity]


class Command(BaseCommand):
    help = "Scan Kubernetes manifests (files or directories) and report findings. Touches no database."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="+", metavar="PATH", help="a file, or a directory read recursively"
        )
        parser.add_argument("--format", choices=["json", "table"], default="table")
        parser.add_argument(
            "--fail-on",
            choices=SEVERITY_CHOICES,
            default=None,
            metavar="SEVERITY",
            help="exit 1 if a finding of this severity or worse exists (" + ", ".join(SEVERITY_CHOICES) + ")",
        )

    def execute(self, *args, **options):
        # Errors are one line on stderr with exit code 2, never a traceback.
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            self.stderr.write(f"scan_manifests: {exc}")
            sys.exit(2)

    def handle(self, *args, **options):
        try:
            snapshot = read_paths(options["paths"])
        except SnapshotError as exc:
            raise CommandError(str(exc)) from None
        if not snapshot.objects:
            reason = snapshot.errors[0] if snapshot.errors else None
            detail = f"{reason.file}: {reason.reason}" if reason else "no Kubernetes objects found"
            raise CommandError(f"nothing could be scanned ({detail})")

        results = engine.run(Inventory.from_objects(snapshot.objects, source="manifests"))
        findings = sorted(
            results.findings,
            key=lambda r: (-r.severity.rank, r.check_id, r.kind, r.namespace, r.name, r.container),
        )
        if options["format"] == "json":
            document = {
                "findings": [r.as_dict() for r in findings],
                "evaluated": dict(sorted(results.evaluated.items())),
                "errors": [e.as_dict() for e in snapshot.errors],
            }
            self.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        else:
            self._write_table(findings, results, snapshot)

        threshold = options["fail_on"]
        if threshold and any(r.severity.rank >= Severity(threshold).rank for r in findings):
            sys.exit(1)

    def _write_table(self, findings, results, snapshot):
        rows = [("SEVERITY", "CHECK", "OBJECT", "CONTAINER", "MESSAGE")]
        for r in findings:
            obj = f"{r.kind}/{r.namespace + '/' if r.namespace else ''}{r.name}"
            rows.append((r.severity.upper(), r.check_id, obj, r.container or "-", r.message))
        widths = [min(max(len(row[i]) for row in rows), 60) for i in range(4)]
        for row in rows:
            self.stdout.write(
                "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
            )
        evaluated = sum(results.evaluated.values())
        self.stdout.write(
            f"\n{len(findings)} findings from {evaluated} evaluations of {len(results.checks)} checks; "
            f"{len(results.exempted)} exempted by annotation."
        )
        for error in snapshot.errors:
            self.stderr.write(f"skipped {error.file} document {error.document}: {error.reason}")
