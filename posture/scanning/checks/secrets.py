"""Secrets: none in ConfigMaps, Secrets rotated, and synced from a secret manager.

Secrets arrive as metadata only: Rampart never reads (or stores) their data.
ConfigMaps are read in full, so evidence from them names the key (and line)
and masks the value: never a character of a credential is copied.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from posture.scanning.checks.common import as_dict, as_list, redact
from posture.scanning.checks.options import option
from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.checks.sensitive import configmap_credentials
from posture.scanning.inventory import Inventory, Resource


@register(
    id="secret-in-configmap",
    title="Credential in a ConfigMap",
    category=Category.SECRETS,
    severity=Severity.HIGH,
    target="ConfigMap",
    frameworks=Frameworks(cis=("5.4.1",), nsa=("Secrets",), mitre=("T1552.001",)),
    description="""
ConfigMaps are not secret: readable by anyone with `view`, logged, diffed, committed. Reported:
a key whose name says credential (password, secret, token, api key, private key...) with a
literal value; any value shaped like a credential (PEM private key, AWS access key id, bearer
token, JWT, URL with a password, GitHub/Slack/Google/Stripe key); and, inside embedded config
files, `name = value` / `name: value` lines of the same kind. File paths, `${VAR}` and
`{{ template }}` references and booleans are not credentials. Evidence names the key and line;
the value is masked.
""",
    remediation="""
Move the value into a Secret (synced from your secret manager) and mount it:

```yaml
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: db-credentials
spec:
  secretStoreRef: {name: vault, kind: ClusterSecretStore}
  target: {name: db-credentials}
  data:
    - secretKey: password
      remoteRef: {key: shop/db, property: password}
```
""",
)
def secret_in_configmap(configmap: Resource, ctx) -> Iterator[Failure]:
    extra = tuple(str(word) for word in option(ctx, "extra_sensitive_env_names"))
    for key, value in as_dict(configmap.raw.get("data")).items():
        key = str(key)
        text = value if isinstance(value, str) else ("" if value is None else str(value))
        for found in configmap_credentials(key, text, extra):
            if found.shape:
                message = f"key {key} holds {found.shape}"
                evidence = {"key": key, "value": redact(found.secret)}
            elif found.line is None:
                message = f"key {key} looks like a credential and has a literal value"
                evidence = {"key": key, "value": redact(found.secret)}
            else:
                message = (
                    f"key {key}, line {found.line}: {found.name} looks like a credential with a literal value"
                )
                evidence = {"key": key, "line": found.line, "name": found.name}
                evidence["value"] = redact(found.secret)
            yield Failure(message=message, path=f"data.{key}", value=evidence)


def parse_time(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# Secret types and the metadata Kubernetes gives them (names, not credentials).
SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"  # noqa: S105
BOOTSTRAP_TOKEN = "bootstrap.kubernetes.io/token"  # noqa: S105
HELM_RELEASE = "helm.sh/release.v1"
SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name"
# Set by Kubernetes (1.29+) on a legacy token it has stopped accepting.
TOKEN_INVALID_SINCE_LABEL = "kubernetes.io/legacy-token-invalid-since"  # noqa: S105


def secret_type(secret: Resource) -> str:
    """The Secret's type. A live scan lists Secrets as metadata only, without their type: the
    types the checks tell apart are then recognised by what their metadata always carries."""
    declared = secret.raw.get("type")
    if isinstance(declared, str) and declared:
        return declared
    if SERVICE_ACCOUNT_NAME_ANNOTATION in secret.annotations:
        return SERVICE_ACCOUNT_TOKEN
    if secret.labels.get("owner") == "helm" and secret.name.startswith("sh.helm.release.v1."):
        return HELM_RELEASE
    if secret.namespace == "kube-system" and secret.name.startswith("bootstrap-token-"):
        return BOOTSTRAP_TOKEN
    return ""


# Secrets whose rotation belongs to something else: Kubernetes (legacy token Secrets,
# bootstrap tokens with their own expiry), Helm release records (not credentials),
# or a controller that re-issues them (cert-manager, External Secrets, Sealed Secrets).
_UNROTATED_TYPES = frozenset({SERVICE_ACCOUNT_TOKEN, BOOTSTRAP_TOKEN, HELM_RELEASE})
_MANAGING_OWNERS = frozenset(
    {
        "ExternalSecret",
        "SealedSecret",
        "Certificate",
        "VaultStaticSecret",
        "VaultDynamicSecret",
        "VaultPKISecret",
        "OnePasswordItem",
        "InfisicalSecret",
    }
)
_MANAGING_ANNOTATION_PREFIXES = (
    "cert-manager.io/",
    "reconcile.external-secrets.io/",
    "sealedsecrets.bitnami.com/",
)


_DATA_FIELDS = ("f:data", "f:stringData")


def _writes_data(entry: dict) -> bool:
    # An entry that owns no data field (a relabel, an annotation, GitOps tracking)
    # did not rotate anything; one whose fields were not kept may have.
    fields = entry.get("fieldsV1")
    return not isinstance(fields, dict) or any(field in fields for field in _DATA_FIELDS)


def last_written(secret: Resource) -> datetime | None:
    """When the Secret's data was last written: the latest managedFields write, else its creation."""
    times = [parse_time(secret.metadata.get("creationTimestamp"))]
    for entry in as_list(secret.metadata.get("managedFields")):
        if isinstance(entry, dict) and entry.get("operation") in ("Update", "Apply") and _writes_data(entry):
            times.append(parse_time(entry.get("time")))
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _rotation_is_ours(secret: Resource) -> bool:
    if secret_type(secret) in _UNROTATED_TYPES:
        return False
    owners = [o for o in as_list(secret.metadata.get("ownerReferences")) if isinstance(o, dict)]
    if any(str(o.get("kind")) in _MANAGING_OWNERS for o in owners):
        return False
    if any(str(k).startswith(_MANAGING_ANNOTATION_PREFIXES) for k in secret.annotations):
        return False
    return bool(secret.metadata.get("creationTimestamp") or secret.metadata.get("managedFields"))


@register(
    id="secret-not-rotated",
    title="Secret not rotated",
    category=Category.SECRETS,
    severity=Severity.MEDIUM,
    target="Secret",
    applies=_rotation_is_ours,
    frameworks=Frameworks(nsa=("Secrets",), mitre=("T1552",)),
    description="""
A credential that never changes stays valid for whoever copied it, however long ago. Reported:
a Secret whose data was last written more than `secret_max_age_days` (default 90) days before
the scan. The last write is the latest `managedFields` update that owns the data (a change
of labels or annotations alone is not a rotation), or `creationTimestamp` when the collector
did not keep managed fields. Not evaluated: Secrets without a timestamp (manifests),
legacy ServiceAccount token and bootstrap token Secrets, Helm release records, and Secrets
re-issued by a controller (cert-manager, External Secrets, Sealed Secrets, Vault Secrets
Operator, 1Password, Infisical), whose rotation is that controller's job.
""",
    remediation="""
Rotate at the source and let the sync update the Secret, e.g. with External Secrets:

```yaml
spec:
  refreshInterval: 1h   # picks up the rotated value from the secret manager
```
""",
)
def secret_not_rotated(secret: Resource, ctx) -> Iterator[Failure]:
    written = last_written(secret)
    if written is None:
        return
    max_age = timedelta(days=option(ctx, "secret_max_age_days"))
    age = ctx.now - written
    if age > max_age:
        yield Failure(
            message=f"Secret last written {age.days} days ago (more than {max_age.days})",
            path="metadata.creationTimestamp",
            value=written.isoformat(),
        )


def _is_token_secret(secret: Resource) -> bool:
    return secret_type(secret) == SERVICE_ACCOUNT_TOKEN


@register(
    id="service-account-token-secret",
    title="Long-lived ServiceAccount token in a Secret",
    category=Category.SECRETS,
    severity=Severity.MEDIUM,
    target="Secret",
    applies=_is_token_secret,
    frameworks=Frameworks(nsa=("Authentication and authorization",), mitre=("T1528",)),
    description="""
A Secret of type `kubernetes.io/service-account-token` holds a token that never expires: anyone
who reads it once (a backup, a CI log, a `get secrets` grant) keeps the ServiceAccount's rights
until the Secret is deleted. Pods have received short-lived, automatically rotated tokens since
Kubernetes 1.22, and tools can ask for one with the TokenRequest API (`kubectl create token`).
Recognised by the type, or, where Secrets were listed as metadata only, by the
`kubernetes.io/service-account.name` annotation such Secrets carry. A token Kubernetes has
already stopped accepting (labelled `kubernetes.io/legacy-token-invalid-since`) passes.
""",
    remediation="""
Delete the Secret and have whoever used it request a short-lived token instead:

```yaml
# kubectl create token ci-deployer --duration=1h
apiVersion: authentication.k8s.io/v1
kind: TokenRequest
spec:
  expirationSeconds: 3600
```
""",
)
def service_account_token_secret(secret: Resource, _ctx) -> Iterator[Failure]:
    if TOKEN_INVALID_SINCE_LABEL in secret.labels:
        return
    account = secret.annotations.get(SERVICE_ACCOUNT_NAME_ANNOTATION)
    yield Failure(
        message="Secret holds a non-expiring token"
        + (f" of ServiceAccount {account}" if isinstance(account, str) and account else ""),
        path="type",
        value={"serviceAccount": account if isinstance(account, str) else None},
    )


# How the usual secret managers show up in a cluster.
EXTERNAL_SECRET_KINDS = {
    "ExternalSecret": "External Secrets",
    "ClusterExternalSecret": "External Secrets",
    "SecretStore": "External Secrets",
    "ClusterSecretStore": "External Secrets",
    "PushSecret": "External Secrets",
    "SealedSecret": "Sealed Secrets",
    "VaultStaticSecret": "Vault Secrets Operator",
    "VaultDynamicSecret": "Vault Secrets Operator",
    "VaultPKISecret": "Vault Secrets Operator",
    "VaultAuth": "Vault Secrets Operator",
    "VaultConnection": "Vault Secrets Operator",
    "SecretProviderClass": "Secrets Store CSI driver",
    "OnePasswordItem": "1Password operator",
    "InfisicalSecret": "Infisical operator",
    "DopplerSecret": "Doppler operator",
}
EXTERNAL_SECRET_GROUPS = {
    "external-secrets.io": "External Secrets",
    "generators.external-secrets.io": "External Secrets",
    "bitnami.com": "Sealed Secrets",
    "secrets.hashicorp.com": "Vault Secrets Operator",
    "secrets-store.csi.x-k8s.io": "Secrets Store CSI driver",
    "onepassword.com": "1Password operator",
    "secrets.infisical.com": "Infisical operator",
    "secrets.doppler.com": "Doppler operator",
}
VAULT_INJECTOR_ANNOTATION = "vault.hashicorp.com/agent-inject"
SECRETS_STORE_CSI_DRIVER = "secrets-store.csi.k8s.io"


def external_secret_managers(inventory: Inventory) -> set[str]:
    found = {name for kind, name in EXTERNAL_SECRET_KINDS.items() if inventory.of_kind(kind)}
    found |= {name for group, name in EXTERNAL_SECRET_GROUPS.items() if group in inventory.api_groups}
    for crd in inventory.of_kind("CustomResourceDefinition"):
        group = as_dict(crd.raw.get("spec")).get("group")
        if group in EXTERNAL_SECRET_GROUPS:
            found.add(EXTERNAL_SECRET_GROUPS[group])
    for workload in inventory.workloads:
        if str(workload.pod_template_annotations.get(VAULT_INJECTOR_ANNOTATION, "")).lower() == "true":
            found.add("Vault agent injector")
        for _index, volume in workload.volumes():
            if as_dict(volume.get("csi")).get("driver") == SECRETS_STORE_CSI_DRIVER:
                found.add("Secrets Store CSI driver")
    return found


@register(
    id="no-external-secrets",
    title="No external secret manager in use",
    category=Category.SECRETS,
    severity=Severity.INFO,
    target=Target.CLUSTER,
    frameworks=Frameworks(cis=("5.4.2",), nsa=("Secrets",)),
    description="""
Informational. Secrets written by hand (or by CI) into the cluster have no single source of
truth, no rotation and no audit trail outside Kubernetes. Passes when any of these is seen:
External Secrets (ExternalSecret, SecretStore, ClusterSecretStore...), Sealed Secrets
(SealedSecret), HashiCorp Vault (Vault Secrets Operator kinds, or pods annotated for the Vault
agent injector), the Secrets Store CSI driver (SecretProviderClass, or a pod volume using the
driver), the 1Password, Infisical or Doppler operators, either by their objects, their
CustomResourceDefinitions, or their API groups in the server's discovery data.
""",
    remediation="""
Install a secret manager integration and sync Secrets from your KMS, e.g. External Secrets:

```yaml
apiVersion: external-secrets.io/v1beta1
kind: ClusterSecretStore
metadata:
  name: vault
spec:
  provider:
    vault:
      server: https://vault.example.com
      path: secret
      auth: {kubernetes: {mountPath: kubernetes, role: external-secrets}}
```
""",
)
def no_external_secrets(inventory: Inventory, _ctx) -> Iterator[Failure]:
    if not external_secret_managers(inventory):
        yield Failure(
            message="no External Secrets, Vault, Sealed Secrets or Secrets Store CSI integration found",
            path="",
            value=None,
        )
