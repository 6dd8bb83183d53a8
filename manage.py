#!/usr/bin/env python
import os
import sys


def main():
    if sys.argv[1:2] == ["scan_manifests"]:
        # A CI step: scanning manifests needs no database and no Django start-up.
        from posture.scanning.cli import main as scan_manifests

        sys.exit(scan_manifests(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "posture.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
