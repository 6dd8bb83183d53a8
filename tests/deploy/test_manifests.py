"""Rampart's own deployment, judged by Rampart and by the Kubernetes schemas."""

import json
import os
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from posture.scanning.collectors import live

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES_VERSION = "1.31.0"
# Custom resources and kustomize files have no upstream schema; they are checked by shape below.
WITHOUT_SCHEMA = {"Kustomization", "ExternalSecret"}
# Exemptions a reviewer accepted, by check id, with the reason each one must give.
ACCEPTED_EXEMPTIONS = {
    "image-not-pinned-to-digest": "kustomize `images:`",
    "rbac-secrets-access": "PartialObjectMetadataList",
    "no-liveness-probe": "Beat serves nothing to probe",
    "no-readiness-probe": "Beat serves nothing to probe",
    # ingress-nginx blocks only with SecRuleEngine On, set in its controller ConfigMap.
    "ingress-no-waf": "SecRuleEngine On",
}


def documents():
    for path in sorted(DEPLOY.rglob("*.yaml")):
        for number, document in enumerate(yaml.safe_load_all(path.read_text()), start=1):
            if document:
                yield path, number, document


def test_rampart_finds_nothing_in_its_own_deployment_at_any_severity():
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run(
        [sys.executable, "manage.py", "scan_manifests", "deploy/", "--fail-on", "low", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["findings"] == [], "\n".join(
        f"{f['check_id']}: {f['kind']}/{f['name']}" for f in report["findings"]
    )
    assert report["errors"] == []
    assert result.returncode == 0
    assert sum(report["evaluated"].values()) > 100  # it did look


def test_every_exemption_names_an_accepted_check_and_gives_the_reason():
    seen = set()
    for path, _, document in documents():
        annotations = (document.get("metadata") or {}).get("annotations") or {}
        if "rampart.dev/ignore" not in annotations:
            continue
        reason = annotations.get("rampart.dev/ignore-reason", "")
        for check_id in annotations["rampart.dev/ignore"].split(","):
            check_id = check_id.strip()
            assert check_id in ACCEPTED_EXEMPTIONS, f"{path}: {check_id} is exempted without review"
            assert ACCEPTED_EXEMPTIONS[check_id] in reason, f"{path}: the reason for {check_id} is missing"
            seen.add(check_id)
    assert seen, "no exemption found: update ACCEPTED_EXEMPTIONS"


@pytest.mark.parametrize(
    ("path", "number", "document"), list(documents()), ids=lambda v: v.name if isinstance(v, Path) else str(v)
)
def test_every_manifest_validates_against_the_kubernetes_schema(path, number, document):
    kind = document.get("kind")
    if kind in WITHOUT_SCHEMA:
        assert (
            document.get("apiVersion") and document.get("metadata", {}).get("name") or kind == "Kustomization"
        )
        return
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_kustomizations_list_files_that_exist():
    for path in DEPLOY.rglob("kustomization.yaml"):
        spec = yaml.safe_load(path.read_text())
        for resource in spec.get("resources", []):
            assert (path.parent / resource).exists(), f"{path}: {resource} does not exist"


def _grants(rules):
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_the_scanner_cluster_role_grants_exactly_what_the_collector_reads():
    roles = [
        doc
        for _, _, doc in documents()
        if doc.get("kind") == "ClusterRole" and doc["metadata"]["name"] == "rampart-scanner"
    ]
    assert len(roles) == 1
    granted = _grants(roles[0]["rules"])
    needed = _grants(live.required_rbac_rules())
    assert granted == needed, f"extra: {sorted(granted - needed)}; missing: {sorted(needed - granted)}"
    assert {verb for _, _, verb in granted} == {"list"}


def test_every_pod_runs_hardened():
    for path, _, document in documents():
        template = None
        if document.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            template = document["spec"]["template"]["spec"]
        elif document.get("kind") == "CronJob":
            template = document["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        if template is None:
            continue
        assert template["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", path
        for container in template["containers"]:
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, path
            assert context["readOnlyRootFilesystem"] is True, path
            assert context["allowPrivilegeEscalation"] is False, path
            assert context["capabilities"]["drop"] == ["ALL"], path


def test_the_namespace_enforces_the_restricted_pod_security_profile():
    namespaces = [doc for _, _, doc in documents() if doc.get("kind") == "Namespace"]
    assert namespaces
    for namespace in namespaces:
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_no_secret_value_is_written_in_the_manifests():
    for path, _, document in documents():
        assert document.get("kind") != "Secret" or not (document.get("data") or document.get("stringData")), (
            path
        )
