"""External Secrets, Vault, Sealed Secrets and the Secrets Store CSI driver are detected from discovery."""

from posture.scanning.collectors.live import collect_with_details
from tests.fakekube.catalogue import CRDS
from tests.live.conftest import token_connection

EXTERNAL_SECRET = {
    "apiVersion": "external-secrets.io/v1",
    "kind": "ExternalSecret",
    "metadata": {"name": "db", "namespace": "shop"},
    "spec": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"}, "target": {"name": "db"}},
}
CLUSTER_SECRET_STORE = {
    "apiVersion": "external-secrets.io/v1",
    "kind": "ClusterSecretStore",
    "metadata": {"name": "vault"},
    "spec": {"provider": {"vault": {"server": "https://vault.example.com"}}},
}
SEALED_SECRET = {
    "apiVersion": "bitnami.com/v1alpha1",
    "kind": "SealedSecret",
    "metadata": {"name": "api-key", "namespace": "shop"},
    "spec": {"encryptedData": {"key": "AgBy3i4OJSWK+PiTySYZZA=="}},
}


def test_installed_secret_managers_are_detected_and_their_objects_collected(serve, objects):
    kube = serve(
        [*objects, EXTERNAL_SECRET, CLUSTER_SECRET_STORE, SEALED_SECRET],
        crd_groups={"secrets-store.csi.x-k8s.io"},
    )

    result = collect_with_details(token_connection(kube))

    assert result.secret_managers == {
        "external-secrets.io": "External Secrets Operator",
        "bitnami.com": "Sealed Secrets",
        "secrets-store.csi.x-k8s.io": "Secrets Store CSI Driver",
    }
    assert {"apps", "external-secrets.io", "bitnami.com"} <= result.api_groups
    inventory = result.inventory
    (external_secret,) = inventory.of_kind("ExternalSecret")
    assert external_secret.raw["apiVersion"] == "external-secrets.io/v1"
    assert [r.name for r in inventory.of_kind("ClusterSecretStore")] == ["vault"]
    assert [r.name for r in inventory.of_kind("SealedSecret")] == ["api-key"]
    assert inventory.of_kind("SecretProviderClass") == []
    assert inventory.coverage_gaps == {}


def test_an_operator_that_serves_only_an_older_version_is_read_at_that_version(serve, objects, monkeypatch):
    older = tuple(
        resource._replace(version="v1beta1", versions=("v1beta1",))
        if resource.group == "external-secrets.io"
        else resource
        for resource in CRDS
    )
    monkeypatch.setattr("tests.fakekube.api.CRDS", older)
    kube = serve([*objects, {**EXTERNAL_SECRET, "apiVersion": "external-secrets.io/v1beta1"}])

    result = collect_with_details(token_connection(kube))

    (external_secret,) = result.inventory.of_kind("ExternalSecret")
    assert external_secret.raw["apiVersion"] == "external-secrets.io/v1beta1"
    assert kube.requests_to("/apis/external-secrets.io/v1beta1/externalsecrets")
    assert result.inventory.coverage_gaps == {}


def test_a_forbidden_secret_manager_kind_is_a_coverage_gap(serve, objects):
    kube = serve([*objects, EXTERNAL_SECRET], forbidden={"external-secrets.io/externalsecrets"})

    result = collect_with_details(token_connection(kube))

    assert result.inventory.coverage_gaps["ExternalSecret"].startswith("forbidden: User ")
