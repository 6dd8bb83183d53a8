"""Collect-to-results speed and memory, from JSON and YAML, against the bare parsers."""

import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import datasets

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "json_10k_seconds": 5.0,
    "json_10k_peak_mb": 400.0,
    "yaml_ratio": 1.5,
    "startup_seconds": 0.5,
    "checkov_ratio": 100.0,
}


def _case(mode: str, *paths: Path, python: str = sys.executable) -> dict:
    out = subprocess.run(
        [python, "-m", "bench.scan_case", mode, *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _best_of(runs: int, mode: str, *paths: Path, python: str = sys.executable) -> dict:
    results = [_case(mode, *paths, python=python) for _ in range(runs)]
    return min(results, key=lambda r: r["seconds"])


def _alternating(pairs: int, first: tuple[str, str], second: tuple[str, str], path: Path):
    """(best of the first mode, best of the second, each pair's ratio second/first), the two
    modes run in turn, each a (mode, python) pair."""
    runs = []
    for _ in range(pairs):
        runs.append((_case(first[0], path, python=first[1]), _case(second[0], path, python=second[1])))
    best_first = min((a for a, _ in runs), key=lambda r: r["seconds"])
    best_second = min((b for _, b in runs), key=lambda r: r["seconds"])
    return best_first, best_second, [round(b["seconds"] / a["seconds"], 2) for a, b in runs]


def _yaml_rs_python() -> str | None:
    """An interpreter with yaml-rs (a dependency; YAML_RS_PYTHON may name another), for the baseline."""
    python = os.environ.get("YAML_RS_PYTHON") or sys.executable
    found = subprocess.run([python, "-c", "import yaml_rs"], capture_output=True, check=False)
    return python if found.returncode == 0 else None


def startup_seconds(tiny: Path) -> float:
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "scan_manifests", str(tiny), "--format", "json"],
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def checkov_seconds(path: Path, timeout: int = 900) -> float | None:
    checkov = os.environ.get("CHECKOV") or shutil.which("checkov")
    if not checkov:
        return None
    started = time.perf_counter()
    try:
        subprocess.run(
            [checkov, "-f", str(path), "--framework", "kubernetes", "--quiet", "--compact"],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return float("inf")
    return time.perf_counter() - started


def _compile_bytecode() -> None:
    # Measured as installed code runs: pip and the image (Dockerfile) compile it ahead of time,
    # where a checkout with PYTHONDONTWRITEBYTECODE set would compile ~60 modules in every case.
    for package in ("posture", "findings", "accounts"):
        compileall.compile_dir(ROOT / package, quiet=1)


def run(sizes=(1000, 10000, 50000), yaml_sizes=(1000, 10000)) -> dict:
    _compile_bytecode()
    results: dict = {"targets": TARGETS, "sizes": {}}
    yaml_rs_python = _yaml_rs_python()
    if not yaml_rs_python:
        print("  yaml-rs: not installed (YAML_RS_PYTHON=...) — YAML is compared with PyYAML only this run")
    for size in sizes:
        files = datasets.write(size)
        entry = {
            "json": _best_of(2, "rampart", files["json"]),
            "json_parse_only": _best_of(2, "parse-json", files["json"]),
        }
        if size in yaml_sizes:
            # PyYAML's baseline once (30 s at 10,000 workloads on a slow day).
            entry["yaml_parse_only"] = _best_of(1, "parse-yaml", files["yaml"])
            if yaml_rs_python:
                # Against the fastest parser, in alternating pairs: the host's speed drifts within
                # a run (by 40% for yaml-rs's 600 MB of allocations), and back-to-back runs of one
                # side would read that drift as a difference between the two.
                entry["yaml_rs_parse_only"], entry["yaml"], entry["yaml_rs_pair_ratios"] = _alternating(
                    3, ("parse-yaml-rs", yaml_rs_python), ("rampart", sys.executable), files["yaml"]
                )
                entry["yaml_rs_ratio"] = round(
                    entry["yaml"]["seconds"] / entry["yaml_rs_parse_only"]["seconds"], 2
                )
                entry["yaml_rs_documents_parse_only"] = _best_of(
                    2, "parse-yaml-rs-documents", files["yaml"], python=yaml_rs_python
                )
            else:
                entry["yaml"] = _best_of(2, "rampart", files["yaml"])
            entry["yaml_ratio"] = round(entry["yaml"]["seconds"] / entry["yaml_parse_only"]["seconds"], 2)
        entry["json_mb"] = round(files["json"].stat().st_size / 1e6, 1)
        results["sizes"][size] = entry
        json_run, parse = entry["json"], entry["json_parse_only"]
        line = (
            f"  {size:>6} workloads: JSON {json_run['seconds']:.2f} s, {json_run['peak_mb']:.0f} MB peak "
            f"({json_run['objects']} objects, {json_run['findings']} findings); "
            f"parser alone {parse['seconds']:.2f} s"
        )
        if "yaml" in entry:
            line += (
                f"; YAML {entry['yaml']['seconds']:.2f} s vs PyYAML parse-only "
                f"{entry['yaml_parse_only']['seconds']:.2f} s ({entry['yaml_ratio']}x)"
            )
            if "yaml_rs_ratio" in entry:
                line += (
                    f", vs yaml-rs parse-only {entry['yaml_rs_parse_only']['seconds']:.2f} s "
                    f"({entry['yaml_rs_ratio']}x, best against best; pair by pair "
                    f"{', '.join(f'{r}x' for r in entry['yaml_rs_pair_ratios'])}; one document at a time "
                    f"{entry['yaml_rs_documents_parse_only']['seconds']:.2f} s)"
                )
        print(line, flush=True)
    if 1000 in results["sizes"] and 50000 in results["sizes"] and 10000 in results["sizes"]:
        per_1k = {size: results["sizes"][size]["json"]["seconds"] / (size / 1000) for size in (10000, 50000)}
        results["scaling_50k_vs_10k_per_workload"] = round(per_1k[50000] / per_1k[10000], 2)
        print(f"  scaling: time per workload at 50k / at 10k = {results['scaling_50k_vs_10k_per_workload']}")
    tiny = datasets.OUT / "tiny.yaml"
    tiny.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n"
    )
    results["startup_seconds"] = round(startup_seconds(tiny), 3)
    print(f"  start-up of scan_manifests on one object: {results['startup_seconds']} s (median of 5)")
    checkov = checkov_seconds(datasets.write(1000)["yaml"])
    if checkov is None:
        print("  Checkov: not installed (pip install checkov) — no side-by-side figure this run")
    else:
        rampart = results["sizes"][1000]["yaml"]["seconds"]
        results["checkov_1k_seconds"] = round(checkov, 1)
        results["checkov_ratio"] = round(checkov / rampart, 1)
        print(
            f"  Checkov on the same 1,000-workload YAML: {checkov:.1f} s; "
            f"Rampart is {results['checkov_ratio']}x faster"
        )
    results["verdicts"] = verdicts(results)
    for line in results["verdicts"]:
        print(f"  target {line}")
    return results


def verdicts(results: dict) -> list[str]:
    """Each of the issue's targets this run measured, met or not, with its figure."""
    sizes = results["sizes"]
    found = []

    def judge(what: str, value: float, limit: float, unit: str, *, at_least: bool = False) -> None:
        met = value >= limit if at_least else value <= limit
        bound = ">=" if at_least else "<="
        found.append(f"{what} {bound} {limit:g}{unit}: {'met' if met else 'NOT MET'} ({value:g}{unit})")

    if 10000 in sizes:
        json_10k = sizes[10000]["json"]
        judge("JSON 10,000 workloads", json_10k["seconds"], TARGETS["json_10k_seconds"], " s")
        judge("JSON 10,000 workloads peak", json_10k["peak_mb"], TARGETS["json_10k_peak_mb"], " MB")
    for size, entry in sizes.items():
        if "yaml_rs_ratio" in entry:
            judge(f"YAML {size:,} workloads vs yaml-rs", entry["yaml_rs_ratio"], TARGETS["yaml_ratio"], "x")
    if "startup_seconds" in results:
        judge("start-up", results["startup_seconds"], TARGETS["startup_seconds"], " s")
    if "checkov_ratio" in results:
        judge("faster than Checkov", results["checkov_ratio"], TARGETS["checkov_ratio"], "x", at_least=True)
    return found
