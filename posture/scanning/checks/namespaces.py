"""Namespaces and the cluster as a whole: Pod Security admission, supported versions, current APIs."""

import re
from collections.abc import Iterator
from datetime import date

from posture.scanning.checks.common import as_dict
from posture.scanning.checks.options import option
from posture.scanning.checks.registry import (
    Category,
    Failure,
    Frameworks,
    NotAssessed,
    Severity,
    Target,
    register,
)
from posture.scanning.inventory import Inventory, Resource

POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce"
POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")


@register(
    id="namespace-no-pod-security",
    title="Namespace enforces no Pod Security level",
    category=Category.NAMESPACE,
    severity=Severity.MEDIUM,
    target="Namespace",
    frameworks=Frameworks(cis=("5.2.1",), nsa=("Pod security",), mitre=("T1611",)),
    description="""
Pod Security admission (the successor of PodSecurityPolicy) rejects pods that break the
namespace's level, whatever deploys them. Without an `enforce` label, or with `privileged`,
anyone who can create a pod there can create a privileged one. A level Kubernetes does not
know is reported too: the API server refuses it when the namespace is applied, and enforces
`restricted` where such a label exists anyway. Namespaces Kubernetes runs its
own privileged components in (`pod_security_exempt_namespaces`, default kube-system,
kube-public, kube-node-lease) are not evaluated. A cluster-wide default set in the API
server's AdmissionConfiguration is not visible to Rampart: exempt with an annotation if you
rely on one.
""",
    remediation="""
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
```
""",
)
def namespace_no_pod_security(namespace: Resource, ctx) -> Iterator[Failure]:
    if namespace.name in option(ctx, "pod_security_exempt_namespaces"):
        return
    level = namespace.labels.get(POD_SECURITY_ENFORCE)
    path = f"metadata.labels.{POD_SECURITY_ENFORCE}"
    if level is None:
        yield Failure(
            message=f"namespace {namespace.name} enforces no Pod Security level", path=path, value=None
        )
    elif level not in POD_SECURITY_LEVELS:
        # Kubernetes refuses such a label when a namespace is created or updated, and where
        # one exists anyway it fails closed (restricted): the level in force is not the one meant.
        yield Failure(
            message=(
                f"namespace {namespace.name} has an invalid Pod Security level {level!r}: the API server "
                "refuses it when the namespace is applied, and enforces restricted where it exists"
            ),
            path=path,
            value=level,
        )
    elif level == "privileged":
        yield Failure(
            message=f"namespace {namespace.name} enforces the privileged level (no restriction)",
            path=path,
            value=level,
        )


# Upstream end of maintenance for each Kubernetes minor release (kubernetes.io/releases).
# The one place this table lives: add each new minor when it ships. A minor newer than the
# table is treated as supported; one older than its first row as unsupported. Managed
# providers' extended support (EKS, GKE, AKS LTS) is not counted: it is paid, partial support.
KUBERNETES_END_OF_LIFE: dict[int, date] = {
    19: date(2021, 10, 28),
    20: date(2022, 2, 28),
    21: date(2022, 6, 28),
    22: date(2022, 10, 28),
    23: date(2023, 2, 28),
    24: date(2023, 7, 28),
    25: date(2023, 10, 28),
    26: date(2024, 2, 28),
    27: date(2024, 6, 28),
    28: date(2024, 10, 28),
    29: date(2025, 2, 28),
    30: date(2025, 6, 28),
    31: date(2025, 10, 28),
    32: date(2026, 2, 28),
    33: date(2026, 6, 28),
    34: date(2026, 10, 27),
    35: date(2027, 2, 28),
}
_VERSION = re.compile(r"v?(\d+)\.(\d+)")


def server_minor(version: dict | None) -> tuple[int, int] | None:
    if not isinstance(version, dict):
        return None
    match = _VERSION.match(str(version.get("gitVersion") or ""))
    if match:
        return int(match.group(1)), int(match.group(2))
    major = re.match(r"\d+", str(version.get("major") or ""))
    minor = re.match(r"\d+", str(version.get("minor") or ""))
    if major and minor:
        return int(major.group()), int(minor.group())
    return None


def end_of_life(minor: int) -> date | None:
    """When Kubernetes 1.<minor> stopped (or stops) getting fixes; None for a release newer than
    the table, which is supported; the first row's date for one older than the table."""
    end = KUBERNETES_END_OF_LIFE.get(minor)
    if end is None and minor < min(KUBERNETES_END_OF_LIFE):
        end = KUBERNETES_END_OF_LIFE[min(KUBERNETES_END_OF_LIFE)]
    return end


@register(
    id="cluster-version-unsupported",
    title="Kubernetes version past its end of life",
    category=Category.CLUSTER,
    severity=Severity.HIGH,
    target=Target.CLUSTER,
    frameworks=Frameworks(nsa=("Upgrading and application security practices",), mitre=("T1068",)),
    description="""
A Kubernetes minor release gets security fixes for about fourteen months. After that, every
new CVE in the API server, kubelet or kube-proxy stays open on the cluster. Judged from the
server version the collector read against the upstream end-of-life table in
`posture/scanning/checks/namespaces.py` (`KUBERNETES_END_OF_LIFE`), on the scan's date. Not
assessed when the version is unknown (manifest scans).
""",
    remediation="""
Upgrade one minor version at a time to a supported release (check removed APIs first, see
`deprecated-api-version`):

```yaml
# e.g. with kubeadm
# kubeadm upgrade plan && kubeadm upgrade apply v1.35.0
```
""",
)
def cluster_version_unsupported(inventory: Inventory, ctx) -> Iterator[Failure]:
    version = server_minor(inventory.server_version)
    if version is None:
        raise NotAssessed("the cluster's Kubernetes version was not collected")
    major, minor = version
    if major != 1:
        raise NotAssessed(f"unknown Kubernetes major version {major}")
    end = end_of_life(minor)
    if end is not None and ctx.now.date() > end:
        yield Failure(
            message=f"Kubernetes 1.{minor} reached its end of life on {end.isoformat()}",
            path="version",
            value=str(inventory.server_version.get("gitVersion") or f"1.{minor}"),
        )


# How many minor releases a kubelet may trail the API server (Kubernetes' version skew policy).
KUBELET_SKEW = 3


@register(
    id="node-version-unsupported",
    title="Node runs a kubelet past its end of life",
    category=Category.CLUSTER,
    severity=Severity.HIGH,
    target="Node",
    frameworks=Frameworks(nsa=("Upgrading and application security practices",), mitre=("T1068",)),
    description="""
Upgrading the control plane leaves the nodes behind until their pools are upgraded too, and the
kubelet, container runtime and kernel of a node are where container escapes land. Reported: a
node whose kubelet's minor release is past its upstream end of life on the scan's date (the
same table as `cluster-version-unsupported`), or more than three minor releases behind the API
server, past Kubernetes' version skew policy. Not assessed for a node whose kubelet version was
not collected (manifests).
""",
    remediation="""
Upgrade the node pool (or drain and replace the nodes) to the control plane's release:

```yaml
# e.g. with kubeadm, on each node after draining it
# kubeadm upgrade node && apt-get install kubelet=1.35.* && systemctl restart kubelet
```
""",
)
def node_version_unsupported(node: Resource, ctx) -> Iterator[Failure]:
    kubelet = as_dict(as_dict(node.raw.get("status")).get("nodeInfo")).get("kubeletVersion")
    version = server_minor({"gitVersion": kubelet}) if isinstance(kubelet, str) else None
    if version is None or version[0] != 1:
        raise NotAssessed("the nodes' kubelet versions were not collected")
    minor = version[1]
    end = end_of_life(minor)
    if end is not None and ctx.now.date() > end:
        yield Failure(
            message=f"kubelet {kubelet} (Kubernetes 1.{minor}) reached its end of life on {end.isoformat()}",
            path="status.nodeInfo.kubeletVersion",
            value=kubelet,
        )
        return
    server = server_minor(ctx.inventory.server_version)
    if server is not None and server[0] == 1 and server[1] - minor > KUBELET_SKEW:
        yield Failure(
            message=f"kubelet {kubelet} is {server[1] - minor} minor releases behind the API server "
            f"(1.{server[1]}); Kubernetes supports {KUBELET_SKEW}",
            path="status.nodeInfo.kubeletVersion",
            value=kubelet,
        )


# (apiVersion, kind) -> (Kubernetes release that stopped serving it, what to use instead).
REMOVED_APIS: dict[tuple[str, str], tuple[str, str]] = {}


def _removed(api_versions: tuple[str, ...], kinds: tuple[str, ...], release: str, replacement: str) -> None:
    for api_version in api_versions:
        for kind in kinds:
            REMOVED_APIS[(api_version, kind)] = (release, replacement)


_removed(
    ("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"),
    ("Deployment", "DaemonSet", "ReplicaSet", "StatefulSet"),
    "1.16",
    "apps/v1",
)
_removed(("extensions/v1beta1",), ("NetworkPolicy",), "1.16", "networking.k8s.io/v1")
_removed(("extensions/v1beta1",), ("PodSecurityPolicy",), "1.16", "Pod Security admission")
_removed(("extensions/v1beta1", "networking.k8s.io/v1beta1"), ("Ingress",), "1.22", "networking.k8s.io/v1")
_removed(("networking.k8s.io/v1beta1",), ("IngressClass",), "1.22", "networking.k8s.io/v1")
_removed(
    ("rbac.authorization.k8s.io/v1beta1", "rbac.authorization.k8s.io/v1alpha1"),
    ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"),
    "1.22",
    "rbac.authorization.k8s.io/v1",
)
_removed(
    ("admissionregistration.k8s.io/v1beta1",),
    ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
    "1.22",
    "admissionregistration.k8s.io/v1",
)
_removed(("apiextensions.k8s.io/v1beta1",), ("CustomResourceDefinition",), "1.22", "apiextensions.k8s.io/v1")
_removed(("apiregistration.k8s.io/v1beta1",), ("APIService",), "1.22", "apiregistration.k8s.io/v1")
_removed(("certificates.k8s.io/v1beta1",), ("CertificateSigningRequest",), "1.22", "certificates.k8s.io/v1")
_removed(("coordination.k8s.io/v1beta1",), ("Lease",), "1.22", "coordination.k8s.io/v1")
_removed(
    ("scheduling.k8s.io/v1beta1", "scheduling.k8s.io/v1alpha1"),
    ("PriorityClass",),
    "1.22",
    "scheduling.k8s.io/v1",
)
_removed(
    ("storage.k8s.io/v1beta1",),
    ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"),
    "1.22",
    "storage.k8s.io/v1",
)
_removed(("batch/v1beta1", "batch/v2alpha1"), ("CronJob",), "1.25", "batch/v1")
_removed(("policy/v1beta1",), ("PodDisruptionBudget",), "1.25", "policy/v1")
_removed(("policy/v1beta1",), ("PodSecurityPolicy",), "1.25", "Pod Security admission")
_removed(("discovery.k8s.io/v1beta1",), ("EndpointSlice",), "1.25", "discovery.k8s.io/v1")
_removed(("events.k8s.io/v1beta1",), ("Event",), "1.25", "events.k8s.io/v1")
_removed(("autoscaling/v2beta1",), ("HorizontalPodAutoscaler",), "1.25", "autoscaling/v2")
_removed(("autoscaling/v2beta2",), ("HorizontalPodAutoscaler",), "1.26", "autoscaling/v2")
_removed(("node.k8s.io/v1beta1",), ("RuntimeClass",), "1.25", "node.k8s.io/v1")
_removed(("storage.k8s.io/v1beta1",), ("CSIStorageCapacity",), "1.27", "storage.k8s.io/v1")
_removed(
    ("flowcontrol.apiserver.k8s.io/v1beta1",),
    ("FlowSchema", "PriorityLevelConfiguration"),
    "1.26",
    "flowcontrol.apiserver.k8s.io/v1",
)
_removed(
    ("flowcontrol.apiserver.k8s.io/v1beta2",),
    ("FlowSchema", "PriorityLevelConfiguration"),
    "1.29",
    "flowcontrol.apiserver.k8s.io/v1",
)
_removed(
    ("flowcontrol.apiserver.k8s.io/v1beta3",),
    ("FlowSchema", "PriorityLevelConfiguration"),
    "1.32",
    "flowcontrol.apiserver.k8s.io/v1",
)
DEPRECATED_API_KINDS = tuple(sorted({kind for _api, kind in REMOVED_APIS}))


@register(
    id="deprecated-api-version",
    title="Object uses a removed API version",
    category=Category.CLUSTER,
    severity=Severity.MEDIUM,
    target=Target.RESOURCES,
    kinds=DEPRECATED_API_KINDS,
    frameworks=Frameworks(nsa=("Upgrading and application security practices",)),
    description="""
Beta API versions are deprecated and then removed: a manifest that still uses one fails to
apply on current clusters (or blocks the upgrade), and often carries old, less safe defaults
(e.g. `extensions/v1beta1` Deployments without a selector). Reported: objects whose apiVersion
no supported Kubernetes release serves any more (extensions/v1beta1, apps/v1beta1/v1beta2,
networking.k8s.io/v1beta1 Ingress, policy/v1beta1 PodSecurityPolicy and PodDisruptionBudget,
batch/v1beta1 CronJob, rbac v1beta1, autoscaling/v2beta1/v2beta2, flowcontrol v1beta1-3...).
The table is `REMOVED_APIS` in `posture/scanning/checks/namespaces.py`.
""",
    remediation="""
Move to the stable API (`kubectl convert` or `pluto` help), e.g.:

```yaml
apiVersion: batch/v1
kind: CronJob
```
""",
)
def deprecated_api_version(resource: Resource, _ctx) -> Iterator[Failure]:
    removed = REMOVED_APIS.get((resource.api_version, resource.kind))
    if removed is not None:
        release, replacement = removed
        yield Failure(
            message=f"{resource.kind} uses {resource.api_version}, removed in Kubernetes {release}; "
            f"use {replacement}",
            path="apiVersion",
            value=resource.api_version,
        )
