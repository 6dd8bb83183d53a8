"""Secrets checks: no credentials in ConfigMaps (and never in evidence), rotation, a secret manager."""

import json

from tests.scanning.checks.builders import deployment, findings, obj, scan


def _configmap(**data) -> dict:
    return obj("ConfigMap", "settings", data=data)


def _secret(created="2026-01-10T08:00:00Z", **metadata) -> dict:
    return obj("Secret", "db", type="Opaque", metadata={"creationTimestamp": created, **metadata})


def _serialised(result) -> str:
    return json.dumps({**result.as_dict(), "value": result.value}, default=str)


def test_it_flags_a_credential_in_a_configmap_and_masks_it():
    [result] = findings("secret-in-configmap", _configmap(LOG_LEVEL="info", db_password="s3cret-Pa55word"))
    assert result.path == "data.db_password"
    assert result.value == {"key": "db_password", "value": "<redacted, 15 chars>"}
    assert "s3cret" not in _serialised(result)


def test_it_flags_a_credential_shaped_value_under_any_key():
    [result] = findings("secret-in-configmap", _configmap(DB_URL="AKIAIOSFODNN7EXAMPLE"))
    assert "AWS access key" in result.message
    assert "AKIA" not in _serialised(result)


def test_it_finds_credentials_inside_embedded_config_files_by_line():
    properties = "spring.datasource.url=jdbc:postgresql://db/shop\nspring.datasource.password=Tr0ub4dor&3\n"
    [result] = findings("secret-in-configmap", _configmap(**{"application.properties": properties}))
    assert result.value["line"] == 2
    assert result.value["name"] == "spring.datasource.password"
    assert "Tr0ub4dor" not in _serialised(result)


def test_it_never_copies_a_private_key_into_evidence():
    key = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAzq8tDuplicateBody\n-----END RSA PRIVATE KEY-----\n"
    )
    [result] = findings("secret-in-configmap", _configmap(**{"tls.key": key}))
    text = _serialised(result)
    assert "MIIE" not in text
    assert "BEGIN" not in text


def test_it_passes_configmaps_without_credentials():
    clean = _configmap(
        LOG_LEVEL="info",
        SECRET_NAME="db-credentials",
        PASSWORD_FILE="/etc/secrets/db",
        TOKEN_TTL="3600",
        **{
            "nsswitch.conf": "passwd: files\ngroup: files\n",
            "app.yaml": "password: ${DB_PASSWORD}\nsecrets: []\n",
        },
    )
    assert findings("secret-in-configmap", clean) == []


def test_it_flags_a_secret_older_than_the_maximum_age():
    [result] = findings("secret-not-rotated", _secret("2026-01-10T08:00:00Z"))
    assert result.value.startswith("2026-01-10")
    assert "320 days" in result.message


def test_a_recent_write_in_managed_fields_counts_as_rotation():
    rotated = _secret(
        "2025-01-01T00:00:00Z",
        managedFields=[{"manager": "rotator", "operation": "Update", "time": "2026-11-01T00:00:00Z"}],
    )
    assert findings("secret-not-rotated", rotated) == []


def test_the_maximum_age_comes_from_the_options():
    assert findings("secret-not-rotated", _secret("2026-10-01T00:00:00Z")) == []
    assert (
        len(
            findings(
                "secret-not-rotated", _secret("2026-10-01T00:00:00Z"), options={"secret_max_age_days": 30}
            )
        )
        == 1
    )


def test_a_write_that_touches_only_metadata_is_not_a_rotation():
    relabelled = _secret(
        "2022-01-10T08:00:00Z",
        managedFields=[
            {
                "manager": "kubectl-create",
                "operation": "Update",
                "time": "2022-01-10T08:00:00Z",
                "fieldsV1": {"f:data": {}, "f:type": {}},
            },
            {
                "manager": "kubectl-label",
                "operation": "Update",
                "time": "2026-11-20T00:00:00Z",
                "fieldsV1": {"f:metadata": {}},
            },
        ],
    )
    [result] = findings("secret-not-rotated", relabelled)
    assert result.value.startswith("2022-01-10")
    rewritten = _secret(
        "2022-01-10T08:00:00Z",
        managedFields=[
            {
                "manager": "rotator",
                "operation": "Apply",
                "time": "2026-11-20T00:00:00Z",
                "fieldsV1": {"f:data": {}},
            }
        ],
    )
    assert findings("secret-not-rotated", rewritten) == []


def test_it_does_not_evaluate_secrets_whose_rotation_belongs_to_a_controller():
    managed = (
        _secret(annotations={"cert-manager.io/certificate-name": "shop"}),
        obj(
            "Secret",
            "token",
            type="kubernetes.io/service-account-token",
            metadata={"creationTimestamp": "2020-01-01T00:00:00Z"},
        ),
        obj("Secret", "manifest-only", type="Opaque"),
    )
    assert scan(*managed, checks=["secret-not-rotated"]).evaluated["secret-not-rotated"] == 0


def _metadata_only(name, namespace="shop", **metadata) -> dict:
    """A Secret as a live scan lists it: metadata only, no type, no data."""
    return obj(
        "Secret",
        name,
        namespace=namespace,
        metadata={"creationTimestamp": "2020-01-01T00:00:00Z", **metadata},
    )


def test_secrets_listed_as_metadata_only_are_told_apart_by_their_metadata():
    # A live scan sees no type: legacy tokens, Helm releases and bootstrap tokens are still
    # recognised, and their rotation is not the user's to do.
    token = _metadata_only("ci-token", annotations={"kubernetes.io/service-account.name": "ci"})
    release = _metadata_only("sh.helm.release.v1.shop.v3", labels={"owner": "helm", "name": "shop"})
    bootstrap = _metadata_only("bootstrap-token-abcdef", namespace="kube-system")
    results = scan(token, release, bootstrap, _metadata_only("db"), checks=["secret-not-rotated"])
    assert [result.name for result in results.findings] == ["db"]
    assert results.evaluated["secret-not-rotated"] == 1


def test_a_legacy_service_account_token_secret_is_long_lived():
    declared = obj("Secret", "deployer-token", type="kubernetes.io/service-account-token")
    listed = _metadata_only("ci-token", annotations={"kubernetes.io/service-account.name": "ci"})
    [first, second] = findings("service-account-token-secret", declared, listed)
    assert first.message == "Secret holds a non-expiring token"
    assert second.message == "Secret holds a non-expiring token of ServiceAccount ci"
    assert second.value == {"serviceAccount": "ci"}


def test_other_secrets_and_tokens_kubernetes_stopped_accepting_pass():
    invalidated = _metadata_only(
        "old-token",
        annotations={"kubernetes.io/service-account.name": "ci"},
        labels={"kubernetes.io/legacy-token-invalid-since": "2026-01-05"},
    )
    results = scan(invalidated, _secret(), checks=["service-account-token-secret"])
    assert results.findings == []
    assert results.evaluated["service-account-token-secret"] == 1  # the invalidated token, judged


def test_it_notes_when_no_secret_manager_is_in_use():
    [result] = findings("no-external-secrets", deployment())
    assert (result.kind, result.severity) == ("Cluster", "info")


def test_it_recognises_a_secret_manager_by_its_objects_crds_api_groups_or_pods():
    external_secret = obj("ExternalSecret", "db", api_version="external-secrets.io/v1beta1")
    crd = obj(
        "CustomResourceDefinition",
        "sealedsecrets.bitnami.com",
        namespace=None,
        api_version="apiextensions.k8s.io/v1",
        spec={"group": "bitnami.com"},
    )
    vault_pod = deployment()
    vault_pod["spec"]["template"]["metadata"]["annotations"] = {"vault.hashicorp.com/agent-inject": "true"}
    assert findings("no-external-secrets", external_secret) == []
    assert findings("no-external-secrets", crd) == []
    assert findings("no-external-secrets", vault_pod) == []
    assert findings("no-external-secrets", deployment(), api_groups={"secrets-store.csi.x-k8s.io"}) == []


def test_an_owner_reference_of_the_wrong_shape_is_judged_not_crashed_on():
    secret = obj(
        "Secret",
        "odd",
        type="Opaque",
        metadata={
            "creationTimestamp": "2020-01-01T00:00:00Z",
            "ownerReferences": [{"kind": ["SealedSecret"], "name": "odd"}],
        },
    )
    results = scan(secret, checks=["secret-not-rotated"])
    assert results.errors == []
    assert [r.name for r in results.findings] == ["odd"]
