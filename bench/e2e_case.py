"""One end-to-end scan, measured in a process of its own: collect, check, store.

`python -m bench.e2e_case SNAPSHOT.json` creates a benchmark database, uploads
the snapshot (as the web process would), then runs the scan in a child process
(as a worker would) so that the peak memory reported is the scan's alone.
Prints one JSON line: wall seconds of the scan, its peak RSS, findings stored.
"""

import json
import os
import subprocess
import sys
import time

from bench.memory import peak_mb


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()


def prepare_and_measure(path: str) -> None:
    _setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    databases = setup_databases(verbosity=0, interactive=False)
    try:
        from posture import services
        from tests.factories import make_cluster, make_team

        with open(path, "rb") as handle:
            snapshot = services.store_snapshot(
                make_cluster(make_team("bench"), name="bench-e2e"), handle.read()
            )
        scan = services.start_scan(snapshot.cluster, snapshot=snapshot, enqueue=False)
        db = connection.settings_dict
        host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        url = f"postgres://{db['USER'] or 'postgres'}@{host}/{db['NAME']}"
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "posture.settings"}
        connection.close()
        out = subprocess.run(
            [sys.executable, "-m", "bench.e2e_case", "--scan", str(scan.pk)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        print(out.stdout.strip().splitlines()[-1])
    finally:
        teardown_databases(databases, verbosity=0)


def scan_and_report(scan_id: int) -> None:
    _setup()
    from posture import services
    from posture.models import ScanStatus

    started = time.perf_counter()
    scan = services.run_scan(scan_id)
    seconds = time.perf_counter() - started
    if scan.status != ScanStatus.SUCCEEDED:
        raise SystemExit(f"scan failed: {scan.error}")
    peak = peak_mb()
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "peak_mb": round(peak, 1),
                "findings": scan.findings_count,
                "objects": sum(scan.objects_collected.values()),
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1] == "--scan":
        scan_and_report(int(sys.argv[2]))
    else:
        prepare_and_measure(sys.argv[1])
