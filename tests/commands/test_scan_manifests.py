"""scan_manifests is run as a CI step would run it: a separate process, no database."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from findings.fingerprints import fingerprint
from tests.corpus import CORPUS
from tests.factories import as_yaml, deployment

ROOT = Path(__file__).resolve().parents[2]
FOUNDATION_CHECKS = {
    "privileged-container",
    "run-as-root",
    "no-readonly-rootfs",
    "allow-privilege-escalation",
}


def scan(*args, env_extra=None, cwd=ROOT, stdin: bytes | None = None):
    # A bare environment: the command must work without any Rampart settings.
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **(env_extra or {})}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "scan_manifests", *map(str, args)],
        input=stdin.decode() if stdin is not None else None,
        cwd=cwd,
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
    assert lines[0].split() == ["SEVERITY", "CHECK", "OBJECT", "CONTAINER", "WHERE", "MESSAGE"]
    assert lines[1].startswith("CRITICAL")
    assert lines[1].split()[4] == f"{manifest}:1"


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


def two_manifests(folder: Path) -> tuple[Path, Path]:
    """k8s/web.yaml: a hardened Deployment, then a privileged one after a comment; k8s/jobs.yaml:
    a privileged Deployment exempted from privileged-container by annotation, then a broken document."""
    (folder / "k8s").mkdir()
    web = folder / "k8s" / "web.yaml"
    web.write_bytes(
        as_yaml(deployment("safe", hardened=True))
        + b"---\n# the risky one\n"
        + as_yaml(deployment("risky", privileged=True))
    )
    exempted = deployment("batch", privileged=True)
    exempted["metadata"]["annotations"] = {
        "rampart.dev/ignore": "privileged-container",
        "rampart.dev/ignore-reason": "needs the GPU driver",
    }
    jobs = folder / "k8s" / "jobs.yaml"
    jobs.write_bytes(as_yaml(exempted) + b"---\nkind: [broken\n")
    return web, jobs


def starts(path: Path) -> list[int]:
    """The lines on which the file's Deployments start."""
    lines = path.read_text().split("\n")
    return [number for number, line in enumerate(lines, start=1) if line == "apiVersion: apps/v1"]


def where(table: str, check_id: str) -> dict[str, str]:
    """{object: WHERE} of the table's rows for one check."""
    rows = [line.split() for line in table.splitlines()[1:] if line.split()[1:2] == [check_id]]
    return {row[2]: row[4] for row in rows}


def test_the_table_says_in_which_file_and_on_which_line_each_object_starts(tmp_path):
    web, _ = two_manifests(tmp_path)

    table = scan(web).stdout

    assert where(table, "privileged-container") == {"Deployment/shop/risky": f"{web}:{starts(web)[1]}"}
    assert starts(web)[1] > 1  # after the first Deployment and the comment that follows the marker
    assert where(table, "no-external-secrets") == {"Cluster": "-"}  # the whole cluster has no file


def sarif_of(folder: Path) -> dict:
    result = scan("k8s", "--format", "sarif", "--fail-on", "critical", cwd=folder)
    assert result.returncode == 1, result.stderr  # --fail-on works as with the other formats
    return json.loads(result.stdout)


def test_sarif_places_each_result_on_its_objects_line_relative_to_where_the_command_ran(tmp_path):
    web, _ = two_manifests(tmp_path)

    log = sarif_of(tmp_path)

    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.resolve().as_uri() + "/"}}
    privileged = [
        r for r in run["results"] if r["ruleId"] == "privileged-container" and "suppressions" not in r
    ]
    assert len(privileged) == 1
    (location,) = privileged[0]["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "k8s/web.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": starts(web)[1]},
    }
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "Deployment/shop/risky container risky"
    assert privileged[0]["level"] == "error"
    assert privileged[0]["message"]["text"].startswith("Deployment/shop/risky: ")
    # Nothing about the hardened Deployment that passes privileged-container.
    assert not [
        r for r in run["results"] if "Deployment/shop/safe:" in r["message"]["text"] and r["level"] == "error"
    ]


def test_sarif_describes_every_check_that_ran_as_a_rule_with_its_severity_and_fix(tmp_path):
    two_manifests(tmp_path)

    run = sarif_of(tmp_path)["runs"][0]

    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert set(rules) == set(run["properties"]["evaluated"]) | {r["ruleId"] for r in run["results"]}
    assert set(rules) >= FOUNDATION_CHECKS
    privileged = rules["privileged-container"]
    assert privileged["shortDescription"]["text"]
    assert privileged["properties"]["security-severity"] == "9.5"  # critical in GitHub's ranking
    assert "securityContext" in privileged["help"]["markdown"]
    assert "pss-baseline" in privileged["properties"]["tags"]
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_keeps_exempted_objects_as_suppressed_results_with_the_annotations_reason(tmp_path):
    two_manifests(tmp_path)

    run = sarif_of(tmp_path)["runs"][0]

    (batch,) = [
        r
        for r in run["results"]
        if r["ruleId"] == "privileged-container" and "Deployment/shop/batch:" in r["message"]["text"]
    ]
    assert batch["suppressions"] == [{"kind": "inSource", "justification": "needs the GPU driver"}]
    assert batch["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "k8s/jobs.yaml"


def test_sarif_reports_a_skipped_document_as_a_notification_of_the_run(tmp_path):
    two_manifests(tmp_path)

    (invocation,) = sarif_of(tmp_path)["runs"][0]["invocations"]

    assert invocation["executionSuccessful"] is True
    (skipped,) = invocation["toolExecutionNotifications"]
    assert skipped["message"]["text"].startswith("document 2 was skipped: invalid YAML")
    assert skipped["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "k8s/jobs.yaml"


def test_sarif_fingerprints_are_the_dashboards_and_follow_the_object_not_the_line(tmp_path):
    web, _ = two_manifests(tmp_path)
    before = sarif_of(tmp_path)["runs"][0]["results"]
    web.write_bytes(b"# moved down\n\n\n" + web.read_bytes())
    after = sarif_of(tmp_path)["runs"][0]["results"]

    def fingerprints(results):
        return {
            (r["ruleId"], r["message"]["text"]): r["partialFingerprints"]["rampartFinding/v1"]
            for r in results
        }

    assert fingerprints(before) == fingerprints(after)
    assert len(set(fingerprints(before).values())) == len(before)  # one per finding
    risky = next(
        r for r in after if r["message"]["text"] == "Deployment/shop/risky: container risky runs privileged"
    )
    assert risky["partialFingerprints"]["rampartFinding/v1"] == fingerprint(
        "privileged-container", "Deployment", "shop", "risky", "risky"
    )
    assert risky["locations"][0]["physicalLocation"]["region"]["startLine"] == starts(web)[1]


def test_a_file_outside_the_working_folder_is_named_by_its_absolute_uri(tmp_path):
    web, _ = two_manifests(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    result = scan(web, "--format", "sarif", cwd=elsewhere)

    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in json.loads(result.stdout)["runs"][0]["results"]
        if "physicalLocation" in r["locations"][0]
    }
    assert uris == {web.resolve().as_uri()}


SARIF_VALIDATOR = ROOT / ".tools" / "sarif-multitool" / "Sarif.Multitool"


def validation_problems(sarif_log: Path) -> list[str]:
    """What Microsoft's SARIF validator finds wrong: schema errors, and any of GitHub's ingestion
    rules broken (GitHub refuses, or silently drops, what breaks them). Its advice is left out."""
    report = sarif_log.with_suffix(".validation.sarif")
    subprocess.run(
        [SARIF_VALIDATOR, "validate", sarif_log, "-o", report, "--rule-kind", "Gh;Sarif", "--quiet"],
        env={**os.environ, "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1"},
        check=True,
        capture_output=True,
        timeout=300,
    )
    results = json.loads(report.read_text(encoding="utf-8-sig"))["runs"][0].get("results", [])
    return [
        f"{r['ruleId']}: {r['message'].get('arguments')}"
        for r in results
        if r.get("level") == "error" or r["ruleId"].startswith("GH")
    ]


needs_the_sarif_validator = pytest.mark.skipif(
    not SARIF_VALIDATOR.exists(), reason="`make sarif-validator` installs Microsoft's SARIF validator"
)


@needs_the_sarif_validator
def test_the_sarif_log_passes_the_sarif_validator_and_githubs_rules(tmp_path):
    two_manifests(tmp_path)  # suppressed results, skipped documents and cluster-wide findings
    sarif_log = tmp_path / "rampart.sarif"
    sarif_log.write_text(scan("k8s", "--format", "sarif", cwd=tmp_path).stdout)

    assert validation_problems(sarif_log) == []


@needs_the_sarif_validator
@pytest.mark.skipif(not (CORPUS / "apps").is_dir(), reason="the shared corpus is not on this machine")
def test_the_sarif_log_of_every_real_world_app_passes_the_validator(tmp_path):
    sarif_log = tmp_path / "apps.sarif"
    sarif_log.write_text(scan(CORPUS / "apps", "--format", "sarif").stdout)

    assert json.loads(sarif_log.read_text())["runs"][0]["results"]
    assert validation_problems(sarif_log) == []


def test_manifests_piped_in_are_scanned_with_their_lines_and_no_file(tmp_path):
    # As `helm template . | scan_manifests -` feeds it.
    piped = (
        as_yaml(deployment("safe", hardened=True)) + b"---\n" + as_yaml(deployment("risky", privileged=True))
    )
    lines = piped.decode().split("\n")
    second = [n for n, line in enumerate(lines, start=1) if line == "apiVersion: apps/v1"][1]
    file_too = tmp_path / "extra.yaml"
    file_too.write_bytes(as_yaml(deployment("other", privileged=True)))

    result = scan("-", file_too, "--fail-on", "critical", stdin=piped)

    assert result.returncode == 1, result.stderr
    assert where(result.stdout, "privileged-container") == {
        "Deployment/shop/risky": f"<stdin>:{second}",
        "Deployment/shop/other": f"{file_too}:1",
    }


def test_sarif_of_piped_manifests_has_no_file_to_point_at(tmp_path):
    piped = as_yaml(deployment("risky", privileged=True)) + b"---\nkind: [broken\n"
    sarif_log = tmp_path / "piped.sarif"
    sarif_log.write_text(scan("-", "--format", "sarif", stdin=piped).stdout)

    run = json.loads(sarif_log.read_text())["runs"][0]

    (privileged,) = [r for r in run["results"] if r["ruleId"] == "privileged-container"]
    assert "physicalLocation" not in privileged["locations"][0]
    assert privileged["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith("Deployment/")
    (skipped,) = run["invocations"][0]["toolExecutionNotifications"]
    assert "locations" not in skipped
    if SARIF_VALIDATOR.exists():
        assert validation_problems(sarif_log) == []


def _json_scan(manifest, *args):
    result = scan(manifest, "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result, json.loads(result.stdout)


def test_a_settings_file_switches_checks_off_overrides_severities_and_sets_options(tmp_path):
    manifest = tmp_path / "app.yaml"
    manifest.write_bytes(as_yaml(deployment("web", privileged=True)))
    settings = tmp_path / "rampart.yaml"
    settings.write_text(
        "disabled: [run-as-root]\n"
        "severity: {privileged-container: medium}\n"
        "options: {trusted_registries: [ghcr.io/acme]}\n"
    )
    gate_before, before = _json_scan(manifest, "--fail-on", "critical")
    gate_after, after = _json_scan(manifest, "--settings", settings, "--fail-on", "critical")

    def severities(document):
        return {f["check_id"]: f["severity"] for f in document["findings"]}

    assert severities(before)["privileged-container"] == "critical"
    assert severities(after)["privileged-container"] == "medium"
    assert "run-as-root" in severities(before)
    assert "run-as-root" not in severities(after)
    assert "run-as-root" not in after["evaluated"]
    # The image comes from registry.example.com: untrusted once trusted registries are given.
    assert "untrusted-registry" not in severities(before)
    assert severities(after)["untrusted-registry"]
    # Nothing is critical any more: the gate that stopped the build lets it pass.
    assert gate_before.returncode == 1
    assert gate_after.returncode == 0
    assert set(after) == {"findings", "evaluated", "errors"}


def test_a_json_settings_file_can_name_the_only_checks_that_run(tmp_path):
    manifest = tmp_path / "app.yaml"
    manifest.write_bytes(as_yaml(deployment("web", privileged=True)))
    settings = tmp_path / "rampart.json"
    settings.write_text(json.dumps({"enabled": ["privileged-container", "latest-tag", "run-as-root"]}))
    _, document = _json_scan(manifest, "--settings", settings)
    assert set(document["evaluated"]) == {"privileged-container", "latest-tag", "run-as-root"}
    assert {f["check_id"] for f in document["findings"]} == {"privileged-container", "run-as-root"}
    # Both, as in RAMPART_CHECK_SETTINGS: only the enabled ones, less the disabled ones.
    both = {"enabled": ["privileged-container", "run-as-root"], "disabled": ["run-as-root"]}
    settings.write_text(json.dumps(both))
    _, document = _json_scan(manifest, "--settings", settings)
    assert set(document["evaluated"]) == {"privileged-container"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("disabled: [no-such-check]\n", "No check is called no-such-check."),
        ("severity: {latest-tag: urgent}\n", "latest-tag: 'urgent' is not a severity"),
        ("options: {secret_max_age_days: -3}\n", "Give a whole number of days"),
        ("options: {no_such_option: 1}\n", "No option is called no_such_option."),
        ("disable: [latest-tag]\n", "unknown key disable"),
        ("enabled: [run-as-root, no-such-check]\n", "No check is called no-such-check."),
        ("disabled: latest-tag\n", "disabled: expected a list of check ids"),
        ("- latest-tag\n", "expected a mapping"),
        ("disabled: [latest-tag\n", "invalid YAML"),
    ],
)
def test_a_settings_file_with_a_mistake_stops_the_scan_with_one_line_naming_it(tmp_path, content, message):
    # A typo in a CI gate must not pass a build it was meant to stop.
    manifest = tmp_path / "app.yaml"
    manifest.write_bytes(as_yaml(deployment("web", privileged=True)))
    settings = tmp_path / "rampart.yaml"
    settings.write_text(content)
    result = scan(manifest, "--settings", settings, "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert str(settings) in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_or_huge_settings_file_stops_the_scan(tmp_path):
    manifest = tmp_path / "app.yaml"
    manifest.write_bytes(as_yaml(deployment("web")))
    missing = scan(manifest, "--settings", tmp_path / "nope.yaml")
    assert missing.returncode == 2
    assert "No such file or directory" in missing.stderr
    huge = tmp_path / "huge.yaml"
    huge.write_text("disabled: []\n" + "# padding\n" * 120_000)
    too_large = scan(manifest, "--settings", huge)
    assert too_large.returncode == 2
    assert "larger than 1024 KiB" in too_large.stderr


def test_sarif_ranks_a_check_by_the_severity_the_settings_file_gives_it(tmp_path):
    manifest = tmp_path / "app.yaml"
    manifest.write_bytes(as_yaml(deployment("web", privileged=True)))
    settings = tmp_path / "rampart.yaml"
    settings.write_text("severity: {privileged-container: low}\n")
    result = scan(manifest, "--format", "sarif", "--settings", settings, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)["runs"][0]
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "privileged-container")
    # GitHub ranks alerts by the rule's security-severity: low, as the team decided, not critical.
    assert float(rule["properties"]["security-severity"]) < 4.0
    assert rule["defaultConfiguration"]["level"] == "note"
    assert {r["level"] for r in run["results"] if r["ruleId"] == "privileged-container"} == {"note"}
