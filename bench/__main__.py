"""`make bench`: every benchmark, printed as figures and written to bench/out/results.json.

Runs against a separate benchmark database created by Django's test runner
(DATABASE_URL points at the server; the dev data is never touched).
Sections: engine (issue: scan engine), ingest (lifecycle), pages and api when present.
`python -m bench engine ingest` runs only the named sections.
"""

import importlib
import json
import os
import sys
from pathlib import Path

SECTIONS = ("engine", "ingest", "pages", "api")


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    from bench.machine import StealMeter, loop_seconds

    wanted = [name for name in argv if name in SECTIONS] or list(SECTIONS)
    results = {"machine": {"python_loop_seconds": loop_seconds()}}
    steal = StealMeter()
    print(f"[machine] 10M-iteration Python loop: {results['machine']['python_loop_seconds']} s", flush=True)
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        for name in wanted:
            try:
                module = importlib.import_module(f"bench.{name}")
            except ModuleNotFoundError:
                print(f"[{name}] not present; skipped")
                continue
            print(f"[{name}]", flush=True)
            results[name] = module.run()
    finally:
        teardown_databases(databases, verbosity=0)
    results["machine"]["cpu_steal_percent"] = steal.percent()
    print(f"[machine] CPU time stolen by the host during the run: {results['machine']['cpu_steal_percent']}%")
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"results written to {out / 'results.json'}")


if __name__ == "__main__":
    main(sys.argv[1:])
