"""Where and how a workload is placed: bare Pods, the default namespace."""

from collections.abc import Iterator

from posture.scanning.checks.common import as_list
from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.inventory import WORKLOAD_KINDS, Resource

# Objects Kubernetes itself puts in the default namespace.
_BUILT_IN_DEFAULTS = frozenset(
    {
        ("Service", "kubernetes"),
        ("ServiceAccount", "default"),
        ("ConfigMap", "kube-root-ca.crt"),
        ("Endpoints", "kubernetes"),
        ("EndpointSlice", "kubernetes"),
    }
)
DEFAULT_NAMESPACE_KINDS = (
    *sorted(WORKLOAD_KINDS),
    "Service",
    "Ingress",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "NetworkPolicy",
    "PersistentVolumeClaim",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
)


def _is_static_pod(pod: Resource) -> bool:
    # Mirror pods of static manifests are managed by the kubelet, not by the API.
    return "kubernetes.io/config.mirror" in pod.annotations


@register(
    id="naked-pod",
    title="Pod not managed by a controller",
    category=Category.WORKLOAD,
    severity=Severity.LOW,
    target="Pod",
    applies=lambda pod: not _is_static_pod(pod),
    frameworks=Frameworks(),
    description="""
A Pod created directly, with no Deployment, StatefulSet, DaemonSet or Job owning it, is not
rescheduled when its node fails and is often someone's debugging session or a forgotten
one-off with broader rights than it should have. Pods whose owner is recorded in
`ownerReferences` are not reported, even when the owner was not collected; static (mirror)
pods are not evaluated.
""",
    remediation="""
Run it through a controller:

```yaml
apiVersion: apps/v1
kind: Deployment
spec:
  replicas: 1
  template:  # the pod spec goes here
```
""",
)
def naked_pod(pod: Resource, _ctx) -> Iterator[Failure]:
    owners = [o for o in as_list(pod.metadata.get("ownerReferences")) if isinstance(o, dict)]
    if not any(o.get("controller") or o.get("kind") for o in owners):
        yield Failure(message="pod has no controlling owner", path="metadata.ownerReferences", value=None)


@register(
    id="default-namespace",
    title="Object in the default namespace",
    category=Category.NAMESPACE,
    severity=Severity.LOW,
    target=Target.RESOURCES,
    kinds=DEFAULT_NAMESPACE_KINDS,
    frameworks=Frameworks(cis=("5.7.4",), nsa=("Namespaces",)),
    description="""
The `default` namespace is where everything lands when nobody chose: it rarely has a Pod
Security level, NetworkPolicies, quotas or narrowly scoped RBAC, and whatever is granted
there is shared by everything in it. Objects Kubernetes creates there itself (the
`kubernetes` Service, the `default` ServiceAccount, `kube-root-ca.crt`) are not reported.
Objects in a manifest without a namespace are not reported either: where they land is decided
when they are applied.
""",
    remediation="""
Create a namespace per application or team and deploy there:

```yaml
metadata:
  name: checkout
  namespace: shop
```
""",
)
def default_namespace(resource: Resource, _ctx) -> Iterator[Failure]:
    if resource.namespace == "default" and (resource.kind, resource.name) not in _BUILT_IN_DEFAULTS:
        yield Failure(
            message=f"{resource.kind} {resource.name} is in the default namespace",
            path="metadata.namespace",
            value="default",
        )
