"""Namespace and cluster checks: Pod Security admission, supported Kubernetes, current APIs."""

from tests.scanning.checks.builders import deployment, findings, names, obj, scan


def _namespace(name="shop", **labels) -> dict:
    return obj("Namespace", name, namespace=None, metadata={"labels": labels})


ENFORCE = "pod-security.kubernetes.io/enforce"


def test_it_flags_a_namespace_without_a_pod_security_level():
    [result] = findings("namespace-no-pod-security", _namespace())
    assert result.path == f"metadata.labels.{ENFORCE}"


def test_it_flags_the_privileged_level_and_invalid_levels():
    assert len(findings("namespace-no-pod-security", _namespace(**{ENFORCE: "privileged"}))) == 1
    [invalid] = findings("namespace-no-pod-security", _namespace(**{ENFORCE: "strict"}))
    # What Kubernetes does with it (pod-security-admission fails closed), not "no level".
    assert "'strict'" in invalid.message
    assert "enforces restricted" in invalid.message


def test_it_passes_a_namespace_that_enforces_baseline_or_restricted():
    assert findings("namespace-no-pod-security", _namespace(**{ENFORCE: "restricted"})) == []


def test_it_leaves_kubernetes_own_namespaces_alone_unless_configured_otherwise():
    assert findings("namespace-no-pod-security", _namespace("kube-system")) == []
    assert (
        len(
            findings(
                "namespace-no-pod-security",
                _namespace("kube-system"),
                options={"pod_security_exempt_namespaces": []},
            )
        )
        == 1
    )


def test_it_flags_a_kubernetes_version_past_its_end_of_life():
    [result] = findings(
        "cluster-version-unsupported",
        server_version={"major": "1", "minor": "29", "gitVersion": "v1.29.4-eks-036c24b"},
    )
    assert result.kind == "Cluster"
    assert result.value == "v1.29.4-eks-036c24b"


def test_it_passes_a_supported_or_newer_kubernetes_version():
    assert findings("cluster-version-unsupported", server_version={"major": "1", "minor": "35+"}) == []
    assert findings("cluster-version-unsupported", server_version={"gitVersion": "v1.40.0"}) == []


def test_it_flags_versions_older_than_the_table():
    assert len(findings("cluster-version-unsupported", server_version={"gitVersion": "v1.14.10"})) == 1


def test_it_is_not_assessed_without_a_server_version():
    results = scan(deployment(), checks=["cluster-version-unsupported"])
    assert results.findings == []
    assert "cluster-version-unsupported" in results.not_assessed


def _node(name, kubelet=None):
    status = {"nodeInfo": {"kubeletVersion": kubelet, "containerRuntimeVersion": "containerd://1.7.22"}}
    return obj("Node", name, namespace=None, status=status if kubelet else {})


def test_a_node_whose_kubelet_is_past_its_end_of_life_is_reported():
    [result] = findings(
        "node-version-unsupported",
        _node("pool-a-1", "v1.29.10-eks-94953ac"),
        _node("pool-b-1", "v1.35.2"),
        server_version={"gitVersion": "v1.35.2"},
    )
    assert (result.kind, result.name) == ("Node", "pool-a-1")
    assert result.path == "status.nodeInfo.kubeletVersion"
    assert "reached its end of life on 2025-02-28" in result.message


def test_a_kubelet_too_far_behind_the_api_server_is_reported_within_the_skew_policy_it_passes():
    # Releases past the end-of-life table: only the skew decides.
    nodes = (_node("behind", "v1.36.1"), _node("within", "v1.37.0"))
    [result] = findings("node-version-unsupported", *nodes, server_version={"gitVersion": "v1.40.1"})
    assert result.name == "behind"
    assert "4 minor releases behind the API server (1.40)" in result.message


def test_nodes_without_a_kubelet_version_are_not_assessed():
    results = scan(_node("from-a-manifest"), checks=["node-version-unsupported"])
    assert results.findings == []
    assert results.not_assessed == {
        "node-version-unsupported": "the nodes' kubelet versions were not collected"
    }


def test_it_flags_removed_api_versions():
    objects = (
        obj("Ingress", "old", api_version="extensions/v1beta1"),
        obj("CronJob", "nightly", api_version="batch/v1beta1"),
        obj("PodSecurityPolicy", "restricted", namespace=None, api_version="policy/v1beta1"),
    )
    results = findings("deprecated-api-version", *objects)
    assert names(results) == [("CronJob", "nightly"), ("Ingress", "old"), ("PodSecurityPolicy", "restricted")]
    assert {r.path for r in results} == {"apiVersion"}


def test_it_passes_current_api_versions():
    current = (
        obj("Ingress", "new", api_version="networking.k8s.io/v1"),
        deployment(),
        obj("CronJob", "nightly", api_version="batch/v1"),
    )
    assert findings("deprecated-api-version", *current) == []
