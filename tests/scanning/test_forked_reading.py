"""A large YAML file is read by two processes, with exactly the result of one.

The probe runs in a fresh interpreter (tests/scanning/fork_probe.py), since a process
with other threads, as this test process may be, never forks a helper.
"""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from posture.scanning import forking
from posture.scanning.collectors.snapshot import read_bytes
from tests.scanning import fork_probe

ROOT = Path(__file__).parents[2]


def probe(scenario: str, **environment) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tests.scanning.fork_probe", scenario],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "RAMPART_FORK": "1", **environment},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_large_file_read_by_two_processes_reads_as_by_one():
    result = probe("same")
    assert result["forks"] == 1
    read, reference = result["read"], result["in_process"]
    assert read == reference
    # Numbers, errors, skipped documents and List annotations from both halves, in order.
    assert [error[1] for error in read["errors"]] == [
        i + 1 for i in range(fork_probe.DOCUMENTS) if i % 101 == 7
    ]
    assert read["skipped"] == sum(
        1 for i in range(fork_probe.DOCUMENTS) if i % 89 == 5 and i % 101 != 7 and i % 97 != 3
    )
    assert read["documents"] == fork_probe.DOCUMENTS
    assert read["coverage_gaps"] == {"Kind400": "forbidden", "Kind1200": "forbidden"}
    assert read["server_version"] == {"gitVersion": "v1.1200.0"}
    assert read["names"].index("s-1200") > read["names"].index("cm-1199")
    # Every object knows its file, document and first line, those the child read too.
    origins = dict(zip(read["names"], read["origins"], strict=True))
    lines = fork_probe.manifest().decode().split("\n")
    assert origins["cm-1499"] == ["big.yaml", 1500, lines.index("metadata: {name: cm-1499}") - 1]
    assert origins["cm-10"] == ["big.yaml", 11, lines.index("metadata: {name: cm-10}") - 1]
    list_starts = [number for number, line in enumerate(lines, start=1) if line == "kind: List"]
    assert origins["s-1200"] == ["big.yaml", 1201, list_starts[1] - 1]  # the List's first line
    assert "'password': ''" in read["objects"]  # redacted in the child too
    assert "c2VjcmV0" not in read["objects"]
    assert result["warnings"] == []


def test_document_numbers_and_lines_carry_across_the_halves_whatever_the_markers(monkeypatch):
    result = probe("same", PROBE_MARKERS="1")
    assert result["forks"] == 1
    read = result["read"]
    assert read == result["in_process"]
    monkeypatch.setenv("PROBE_MARKERS", "1")
    lines = fork_probe.manifest().decode().split("\n")
    # An object near the end, read by the child: the line of its first key, and its document's
    # number counting the empty documents between markers in both halves.
    first_key = lines.index("metadata: {name: cm-1499}")
    markers = sum(1 for line in lines[:first_key] if line.startswith("---") or line == "...")
    assert dict(zip(read["names"], read["origins"], strict=True))["cm-1499"] == [
        "big.yaml",
        markers + 1,
        first_key - 1,
    ]


def test_unrendered_templates_are_set_aside_in_either_half_as_by_one_process():
    result = probe("same", PROBE_TEMPLATES="1")
    assert result["forks"] == 1
    assert result["read"] == result["in_process"]
    templates = [error for error in result["read"]["errors"] if "unrendered" in error[2]]
    assert [error[1] for error in templates] == [index + 1 for index in fork_probe.TEMPLATE_DOCUMENTS]
    assert not any("{{" in name for name in result["read"]["names"])


def test_a_file_whose_second_half_is_one_document_is_read_in_one_process():
    result = probe("same", PROBE_GIANT_LAST="1")
    assert result["forks"] == 0
    assert result["read"] == result["in_process"]
    assert result["read"]["names"][-1] == "giant"


def test_when_the_helper_fails_the_parent_reads_its_share():
    result = probe("child-fails")
    assert result["forks"] == 1
    assert result["read"] == result["in_process"]
    assert len(result["read"]["names"]) > 1300
    assert any("helper process failed" in warning for warning in result["warnings"])


def test_a_value_the_pipe_cannot_carry_is_read_in_the_parent():
    # A !!timestamp is a datetime, which marshal refuses: the child fails, the parent reads it.
    result = probe("same", PROBE_TIMESTAMP="1")
    assert result["forks"] == 1
    assert result["read"] == result["in_process"]
    assert "datetime.date(2026, 1, 1)" in result["read"]["objects"]


def test_reading_stopped_early_ends_the_helper_at_once():
    # A scan stopped by its time limit must not wait for, or leave behind, the child.
    result = probe("stopped")
    assert result["forks"] == 1
    assert result["stopped_after"] < result["whole_read"] / 3
    assert result["children_left"] is False


def test_a_process_with_other_threads_reads_in_process(monkeypatch):
    def no_fork():
        pytest.fail("forked while another thread was running")

    monkeypatch.setattr(os, "fork", no_fork)
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not forking.available()
        snapshot = read_bytes(fork_probe.manifest(), "big.yaml")
    finally:
        release.set()
        thread.join()
    assert snapshot.documents == fork_probe.DOCUMENTS
    assert len(snapshot.errors) == len([i for i in range(fork_probe.DOCUMENTS) if i % 101 == 7])


def test_rampart_fork_0_keeps_a_scan_in_one_process(monkeypatch):
    monkeypatch.setenv("RAMPART_FORK", "0")
    assert not forking.available()
