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
