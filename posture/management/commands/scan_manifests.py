"""The management-command face of posture.scanning.cli; manage.py also runs that directly, without Django."""

import sys

from django.core.management.base import BaseCommand

from posture.scanning import cli


class Command(BaseCommand):
    help = "Scan Kubernetes manifests (files or directories) and report findings. Touches no database."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        cli.add_arguments(parser)

    def handle(self, *args, paths, format, fail_on, **options):  # noqa: A002 - the option's name
        code = cli.run(paths, output=format, fail_on=fail_on, stdout=self.stdout, stderr=self.stderr)
        if code:
            sys.exit(code)
