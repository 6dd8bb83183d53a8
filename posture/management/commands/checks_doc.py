"""Write docs/checks.md from the check registry (or, with --check, fail if it is stale)."""

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from posture.scanning.checks.docs import render_markdown


class Command(BaseCommand):
    help = "Generate docs/checks.md from the check registry. Touches no database."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", default=str(Path(settings.BASE_DIR) / "docs" / "checks.md"), help="where to write"
        )
        parser.add_argument(
            "--check", action="store_true", help="exit 1 if the file differs from what would be written"
        )

    def handle(self, *args, **options):
        path = Path(options["output"])
        text = render_markdown()
        if options["check"]:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != text:
                self.stderr.write(f"{path} is stale: run `python manage.py checks_doc`")
                sys.exit(1)
            self.stdout.write(f"{path} is current")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {path}")
