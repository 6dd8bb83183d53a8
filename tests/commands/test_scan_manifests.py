"""scan_manifests is run as a CI step would run it: a separate process, no database."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus import CORPUS
from tests.factories import as_yaml, deployment

ROOT = Path(__file__).resolve().parents[2]
FOUNDATION_CHECKS = {
    "privileged-container",
    "run-as-root",
    "no-readonly-rootfs",
    "allow-privilege-escalation",
}


def scan(*args, env_extra=None):
    # A bare environment: the command must work without any Rampart settings.
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "manage.py", "scan_manifests", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(not (CORPUS / "apps").is_dir(), reason="the shared corpus is not on this machine")
def test_it_prints_the_documented_json_for_kubernetes_goat():
    result = scan(CORPUS / "apps" / "kubernetes-goat-a.yaml", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"findings", "evaluated", "errors"}
    assert {f["check_id"] for f in document["findings"]} >= FOUNDATION_CHECKS
    for finding in document["findings"]:
        assert set(finding) == {
            "check_id",
            "severity",
            "kind",
            "namespace",
            "name",
            "container",
            "message",
            "path",
        }
    assert all(document["evaluated"][check] > 0 for check in FOUNDATION_CHECKS)
    assert document["errors"] == []


def test_fail_on_exits_one_when_a_finding_is_that_severe(tmp_path):
    manifest = tmp_path / "app.yaml"
    manifest.write_bytes(as_yaml(deployment("web", privileged=True)))
    assert scan(manifest, "--fail-on", "critical").returncode == 1


def test_fail_on_exits_zero_when_nothing_reaches_the_threshold(tmp_path):
    manifest = tmp_path / "app.yaml"
    manifest.write_bytes(as_yaml(deployment("web", hardened=True)))
    result = scan(manifest, "--fail-on", "critical", "--format", "json")
    assert result.returncode == 0
    assert not [f for f in json.loads(result.stdout)["findings"] if f["severity"] == "critical"]


def test_a_missing_path_exits_two_with_one_line_and_no_traceback(tmp_path):
    result = scan(tmp_path / "nope.yaml", "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_that_is_not_yaml_or_json_exits_two(tmp_path):
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = scan(garbage)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "nothing could be scanned" in result.stderr


def test_malformed_documents_are_listed_and_the_rest_is_scanned(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_bytes(as_yaml(deployment("web", privileged=True)))
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n")
    result = scan(tmp_path, "--format", "json")
    assert result.returncode == 0
    document = json.loads(result.stdout)
    assert document["errors"] == [
        {"file": str(bad), "document": 1, "reason": document["errors"][0]["reason"]}
    ]
    assert any(f["name"] == "web" for f in document["findings"])


def test_the_table_format_lists_findings_by_severity(tmp_path):
    manifest = tmp_path / "app.yaml"
    manifest.write_bytes(as_yaml(deployment("web", privileged=True)))
    result = scan(manifest)
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["SEVERITY", "CHECK", "OBJECT"]
    assert lines[1].startswith("CRITICAL")


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    # Far more output than a pipe holds, so that the command is still writing when `head` leaves.
    manifest = tmp_path / "many.yaml"
    manifest.write_bytes(as_yaml(*(deployment(f"web-{n}", privileged=True) for n in range(400))))
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    command = [sys.executable, "manage.py", "scan_manifests", str(manifest)]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with subprocess.Popen(command, cwd=ROOT, env=env, **pipes) as process:
        assert process.stdout.readline().startswith(b"SEVERITY")
        process.stdout.close()
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=120) == 141  # as a process ended by SIGPIPE
    assert stderr == ""  # no traceback


def test_the_table_names_the_cluster_as_the_object_of_cluster_wide_findings(tmp_path):
    manifest = tmp_path / "app.yaml"
    manifest.write_bytes(as_yaml(deployment("web")))
    result = scan(manifest)
    line = next(line for line in result.stdout.splitlines() if "no-external-secrets" in line)
    assert line.split()[2] == "Cluster"
