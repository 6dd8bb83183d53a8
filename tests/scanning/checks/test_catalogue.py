"""The catalogue as a whole: every required check, complete metadata, the engine features it relies on."""

import re
from pathlib import Path

import pytest

from posture.scanning import engine
from posture.scanning.checks import load_catalogue
from posture.scanning.checks.options import OPTIONS, option
from posture.scanning.checks.registry import (
    Category,
    CheckRegistry,
    DuplicateCheckError,
    Failure,
    NotApplicable,
    NotAssessed,
    Severity,
    Target,
)
from posture.scanning.inventory import Inventory
from tests.scanning.checks.builders import NOW, container, deployment, obj, scan

REQUIRED = {
    "workload": """privileged-container allow-privilege-escalation run-as-root no-readonly-rootfs
        host-network host-pid host-ipc host-port host-path docker-socket-mount dangerous-capabilities
        capabilities-not-dropped no-seccomp unmasked-proc-mount unsafe-sysctls windows-host-process
        no-cpu-limit no-memory-limit
        no-cpu-request no-memory-request latest-tag image-not-pinned-to-digest image-pull-policy-not-always
        no-liveness-probe no-readiness-probe automount-sa-token default-service-account secret-in-env
        secret-ref-in-env naked-pod default-namespace""",
    "network": """no-network-policy namespace-no-network-policy namespace-no-default-deny
        network-policy-allow-all database-exposed service-exposed-externally service-nodeport
        ssh-port-exposed ingress-no-tls
        ingress-no-rate-limit ingress-no-waf""",
    "rbac": """cluster-admin-binding rbac-wildcard rbac-secrets-access rbac-pod-exec rbac-create-pods
        rbac-bind-escalate rbac-impersonate rbac-portforward rbac-anonymous-access rbac-system-masters
        rbac-nodes-proxy rbac-default-sa-bound""",
    "secrets": "secret-in-configmap secret-not-rotated no-external-secrets",
    "namespaces": "namespace-no-pod-security cluster-version-unsupported deprecated-api-version",
}
FAMILY_TESTS = {
    "workload": "test_workloads.py",
    "network": "test_network.py",
    "rbac": "test_rbac.py",
    "secrets": "test_secrets.py",
    "namespaces": "test_namespaces.py",
    "control-plane": "test_control_plane.py",
}
# Beyond the list: the rest of the Pod Security Standards baseline.
# And the check the "trusted registries" setting asks for (it runs only when the option is set).
# And sensitive-interface-exposed, the Microsoft threat matrix's "exposed sensitive interfaces",
# and end-of-life-software, for projects that stopped (ingress-nginx, the Kubernetes Dashboard),
# and the CIS Benchmark's control-plane sections, read from the flags of static pods.
ADDED = {
    "workload": """apparmor-unconfined selinux-custom-options probe-host-set untrusted-registry
        end-of-life-software""",
    "network": "sensitive-interface-exposed",
    "secrets": "service-account-token-secret",
    "rbac": "rbac-token-request rbac-admission-control rbac-csr-approval rbac-persistent-volumes",
    "namespaces": "node-version-unsupported",
    "control-plane": """control-plane-open-access secrets-not-encrypted-at-rest api-server-no-audit-log
        control-plane-not-hardened""",
}
ALL_REQUIRED = sorted(check_id for ids in (*REQUIRED.values(), *ADDED.values()) for check_id in ids.split())


def test_every_required_check_is_registered_once():
    catalogue = load_catalogue()
    assert sorted(check.id for check in catalogue) == ALL_REQUIRED


@pytest.mark.parametrize("check_id", ALL_REQUIRED)
def test_every_check_carries_complete_metadata(check_id):
    check = load_catalogue().get(check_id)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", check.id)
    assert check.title
    assert isinstance(check.category, Category)
    assert isinstance(check.severity, Severity)
    assert check.target in set(Target) or isinstance(check.target, str)
    assert check.kinds or check.target == Target.CLUSTER
    assert check.description.count(" ") > 10
    assert "```yaml" in check.remediation
    refs = check.frameworks
    assert refs.pss in ("", "baseline", "restricted")
    # Section 5 (policies) for what objects say; 1 and 2 (control plane, etcd) from static pods' flags.
    assert all(re.fullmatch(r"[125]\.\d+(\.\d+)?", section) for section in refs.cis)
    assert all(re.fullmatch(r"T\d{4}(\.\d{3})?", technique) for technique in refs.mitre)
    assert refs.cis or refs.nsa or refs.pss or check.severity == Severity.LOW


@pytest.mark.parametrize(("family", "ids"), [*REQUIRED.items(), *ADDED.items()])
def test_every_check_has_a_failing_and_a_passing_test(family, ids):
    source = (Path(__file__).parent / FAMILY_TESTS[family]).read_text()
    for check_id in ids.split():
        assert source.count(f'"{check_id}"') >= 2, f"{check_id} needs a failing and a passing test"


def test_a_duplicate_check_id_is_refused():
    registry = CheckRegistry()
    options = {
        "title": "t",
        "category": Category.WORKLOAD,
        "severity": Severity.LOW,
        "target": Target.WORKLOAD,
        "description": "d",
        "remediation": "r",
    }
    registry.register(id="same", **options)(lambda subject, ctx: ())
    with pytest.raises(DuplicateCheckError):
        registry.register(id="same", **options)(lambda subject, ctx: ())


def test_a_resources_check_must_name_its_kinds():
    with pytest.raises(ValueError, match="names no kinds"):
        CheckRegistry().register(
            id="x",
            title="t",
            category=Category.CLUSTER,
            severity=Severity.LOW,
            target=Target.RESOURCES,
            description="d",
            remediation="r",
        )(lambda s, c: ())


# --- engine features the catalogue relies on --------------------------------------------------------


def _registry_with(func, target=Target.WORKLOAD, **extra):
    registry = CheckRegistry()
    registry.register(
        id="probe",
        title="t",
        category=Category.WORKLOAD,
        severity=Severity.LOW,
        target=target,
        description="d",
        remediation="r",
        **extra,
    )(func)
    return registry


def test_failures_on_the_same_container_become_one_finding():
    def two_problems(workload, ctx):
        yield Failure("first", path="a", value=1, container="app")
        yield Failure("second", path="b", value=2, container="app")
        yield Failure("sidecar", path="c", value=3, container="sidecar")

    results = engine.run(Inventory.from_objects([deployment()]), _registry_with(two_problems))
    merged = next(r for r in results.findings if r.container == "app")
    assert len(results.findings) == 2
    assert merged.message == "first; second"
    assert merged.value == [{"path": "a", "value": 1}, {"path": "b", "value": 2}]


def test_a_cluster_check_that_lacks_facts_is_not_assessed():
    def needs_version(inventory, ctx):
        raise NotAssessed("no version")

    results = engine.run(Inventory.from_objects([]), _registry_with(needs_version, target=Target.CLUSTER))
    assert results.not_assessed == {"probe": "no version"}
    assert results.evaluated["probe"] == 0


def test_subjects_a_check_does_not_apply_to_are_not_counted():
    registry = _registry_with(lambda s, c: (), applies=lambda workload: workload.name == "web")
    results = engine.run(Inventory.from_objects([deployment(), deployment(name="api")]), registry)
    assert results.evaluated["probe"] == 1


def test_a_subject_a_check_rules_out_from_the_inventory_is_not_counted():
    def only_web(workload, ctx):
        if workload.name != "web":
            raise NotApplicable
        yield Failure("found", path="spec")

    results = engine.run(
        Inventory.from_objects([deployment(), deployment(name="api")]), _registry_with(only_web)
    )
    assert results.evaluated["probe"] == 1
    assert [r.name for r in results.findings] == ["web"]
    assert results.not_assessed == {}


def test_checks_see_the_scan_clock():
    seen = []
    registry = _registry_with(lambda inventory, ctx: seen.append(ctx.now) or (), target=Target.CLUSTER)
    engine.run(Inventory.from_objects([]), registry, now=NOW)
    assert seen == [NOW]


def test_exemption_annotations_work_for_every_kind_of_subject():
    policy = obj(
        "NetworkPolicy",
        "open",
        api_version="networking.k8s.io/v1",
        metadata={
            "annotations": {
                "rampart.dev/ignore": "network-policy-allow-all, other",
                "rampart.dev/ignore-reason": "public web tier",
            }
        },
        spec={"podSelector": {}, "ingress": [{}]},
    )
    results = scan(policy, checks=["network-policy-allow-all"])
    assert results.findings == []
    assert [(r.name, r.exempt_reason) for r in results.exempted] == [("open", "public web tier")]


def test_options_fall_back_to_their_defaults_when_malformed():
    class Ctx:
        options = {"secret_max_age_days": "ninety", "extra_database_ports": [5000, "x"]}

    assert option(Ctx, "secret_max_age_days") == OPTIONS["secret_max_age_days"].default
    assert option(Ctx, "extra_database_ports") == (5000, "x")


def test_a_broken_check_does_not_sink_the_scan():
    def broken(workload, ctx):
        raise KeyError("oops")

    results = engine.run(Inventory.from_objects([deployment(container())]), _registry_with(broken))
    assert results.findings == []
    assert results.errors == ["check probe could not evaluate <Deployment shop/web>"]
