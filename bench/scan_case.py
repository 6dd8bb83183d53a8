"""One measured run in a fresh process: `python -m bench.scan_case MODE PATH...`.

Modes: `rampart` (read + inventory + engine), `parse-json` (orjson), `parse-yaml`
(PyYAML's C loader), `parse-yaml-rs` (yaml-rs, the fastest YAML parser on PyPI,
reading the whole file in one call) and `parse-yaml-rs-documents` (yaml-rs called once
per document): the parsers alone, as baselines. Prints one JSON
line with wall seconds and peak RSS, so that memory is the run's own, not the harness's.
"""

import gc
import json
import sys
import time

from bench.memory import peak_mb


def main() -> None:
    mode, paths = sys.argv[1], sys.argv[2:]
    if mode.startswith("parse-"):
        gc.disable()  # the baseline at its best: Rampart, too, pauses the cyclic collector while parsing
    started = time.perf_counter()
    if mode == "rampart":
        from posture.scanning import engine
        from posture.scanning.collectors.snapshot import read_paths
        from posture.scanning.inventory import Inventory, cyclic_gc_paused

        with cyclic_gc_paused():  # as the CLI and the scan task run a scan
            snapshot = read_paths(paths)
            inventory = Inventory.from_objects(snapshot.objects)
            results = engine.run(inventory)
            objects = len(snapshot.objects)
            # As they do, let go of the objects before the collector resumes: it would walk
            # every one of them once otherwise (0.25 s at 10,000 workloads).
            del snapshot, inventory
        detail = {
            "objects": objects,
            "findings": len(results.findings),
            "evaluations": sum(results.evaluated.values()),
            "checks": len(results.checks),
        }
    elif mode == "parse-yaml":
        import yaml

        count = 0
        for path in paths:
            with open(path, "rb") as handle:
                count += sum(1 for _ in yaml.load_all(handle, Loader=yaml.CSafeLoader))  # noqa: S506 - safe loader
        detail = {"documents": count}
    elif mode == "parse-yaml-rs":
        import yaml_rs

        count = 0
        for path in paths:
            with open(path, encoding="utf-8") as handle:
                documents = yaml_rs.loads(handle.read(), parse_datetime=False)
            count += len(documents) if isinstance(documents, list) else 1
        detail = {"documents": count}
    elif mode == "parse-yaml-rs-documents":
        # The same parser one document at a time, as Rampart calls it: faster than one call
        # for the whole file, which holds every document's parse at once.
        import yaml_rs

        from posture.scanning.collectors.snapshot import _split_documents

        count = 0
        for path in paths:
            with open(path, "rb") as handle:
                chunks = [chunk for chunk in _split_documents(handle.read()) if chunk.strip()]
            for chunk in chunks:
                yaml_rs.loads(chunk.decode(), parse_datetime=False)
            count += len(chunks)
        detail = {"documents": count}
    elif mode == "parse-json":
        import orjson

        count = 0
        for path in paths:
            with open(path, "rb") as handle:
                count += len(orjson.loads(handle.read()).get("items", []))
        detail = {"objects": count}
    else:
        raise SystemExit(f"unknown mode {mode}")
    wall = time.perf_counter() - started
    print(json.dumps({"mode": mode, "seconds": round(wall, 3), "peak_mb": round(peak_mb(), 1), **detail}))


if __name__ == "__main__":
    main()
