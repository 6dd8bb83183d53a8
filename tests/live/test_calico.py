"""Calico's own policies are read from its CRDs, and kept apart from Kubernetes NetworkPolicies."""

from posture.scanning import engine
from posture.scanning.collectors.live import collect
from tests.live.conftest import token_connection

CRD = "crd.projectcalico.org/v1"


def _calico_objects() -> list[dict]:
    deny_all = {
        "apiVersion": CRD,
        "kind": "GlobalNetworkPolicy",
        "metadata": {"name": "default-deny"},
        "spec": {"selector": "projectcalico.org/namespace != 'kube-system'", "types": ["Ingress", "Egress"]},
    }
    allow_web = {
        "apiVersion": CRD,
        "kind": "NetworkPolicy",
        "metadata": {"name": "default.allow-web", "namespace": "shop"},
        "spec": {"selector": "app == 'web'", "ingress": [{"action": "Allow"}]},
    }
    return [deny_all, allow_web]


def test_calico_policies_are_read_and_count_for_isolation(serve, objects):
    kube = serve([*objects, *_calico_objects()])

    inventory = collect(token_connection(kube))

    assert [p.name for p in inventory.of_kind("GlobalNetworkPolicy")] == ["default-deny"]
    assert [p.name for p in inventory.of_kind("NetworkPolicy.crd.projectcalico.org")] == ["default.allow-web"]
    assert "default.allow-web" not in [p.name for p in inventory.of_kind("NetworkPolicy")]
    results = engine.run(inventory)
    open_namespaces = [r.name for r in results.findings if r.check_id == "namespace-no-default-deny"]
    assert open_namespaces == ["kube-system"]  # shop is closed by the global policy, which skips kube-system


def test_an_unreadable_calico_list_is_its_own_coverage_gap(serve, objects):
    kube = serve([*objects, *_calico_objects()], forbidden={"crd.projectcalico.org/networkpolicies"})

    inventory = collect(token_connection(kube))

    assert set(inventory.coverage_gaps) == {"NetworkPolicy.crd.projectcalico.org"}
    assert inventory.of_kind("NetworkPolicy")  # Kubernetes' own were read, and their checks run
