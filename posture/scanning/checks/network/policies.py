"""NetworkPolicy isolation: every workload selected, every namespace default-deny, no allow-all holes.

Kubernetes NetworkPolicies, Cilium's CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy and
Calico's NetworkPolicy / GlobalNetworkPolicy (calico.py) all isolate pods; all count. Selection goes
through the inventory's selector index (namespace + label), never every pair.
"""

from collections.abc import Iterator

from posture.scanning.checks.common import as_dict, as_list
from posture.scanning.checks.network import calico
from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.inventory import (
    CILIUM_NAMESPACE_LABEL,
    Resource,
    Selector,
    Workload,
    cilium_specs,
)

# Namespaces that hold no workloads by design.
_WORKLOAD_FREE_NAMESPACES = frozenset({"kube-public", "kube-node-lease"})
_ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})


def _holds_workloads(namespace: Resource) -> bool:
    return namespace.name not in _WORKLOAD_FREE_NAMESPACES


def policy_types(spec: dict) -> set[str]:
    """Directions a NetworkPolicy isolates: its policyTypes, or the API server's default."""
    declared = spec.get("policyTypes")
    if isinstance(declared, list) and declared:
        return {str(t) for t in declared}
    # SetDefaults_NetworkPolicy adds Egress only for a non-empty egress list: `egress: []`
    # without policyTypes leaves egress open.
    return {"Ingress", "Egress"} if as_list(spec.get("egress")) else {"Ingress"}


@register(
    id="no-network-policy",
    title="Workload not isolated by any NetworkPolicy",
    category=Category.NETWORK,
    severity=Severity.MEDIUM,
    target=Target.WORKLOAD,
    requires=("NetworkPolicy",),
    frameworks=Frameworks(cis=("5.3.2",), nsa=("Network separation and hardening",), mitre=("T1046",)),
    description="""
Pods that no NetworkPolicy selects accept traffic from every pod in the cluster and may
connect anywhere: one compromised pod can reach them all. Passes when a NetworkPolicy (or a
Cilium policy) in the workload's namespace selects its pod labels, for ingress, egress or
both; a namespace-wide `podSelector: {}` counts. How much the policy allows is judged by
`namespace-no-default-deny` and `network-policy-allow-all`, not here. Calico's own
NetworkPolicy and GlobalNetworkPolicy count too, their selector expressions read as Calico
documents them (`role == 'db' && has(tier)`, `all()`, `namespaceSelector`); Antrea's policies
are not read: a workload only they isolate is reported, and can be exempted with the annotation.
""",
    remediation="""
Start with a default-deny policy for the namespace, then allow what each workload needs:

```yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
spec:
  podSelector: {}
  policyTypes: ["Ingress", "Egress"]
```
""",
)
def no_network_policy(workload: Workload, ctx) -> Iterator[Failure]:
    if not ctx.inventory.policies_selecting(workload) and not calico.selects(workload, ctx.inventory):
        labels_path = (
            "metadata.labels"
            if workload.kind == "Pod"
            else workload.pod_spec_path[: -len("spec")] + ("metadata.labels")
        )
        yield Failure(
            message=f"no NetworkPolicy in namespace {workload.namespace or '(none)'} selects its pods",
            path=labels_path,
            value=dict(workload.pod_template_labels),
        )


def _cluster_policies_cover(inventory, namespace: str) -> bool:
    # A clusterwide Cilium policy covers the namespace when its selector holds for
    # every pod there: empty, or only about the pod's namespace label.
    pseudo_labels = {CILIUM_NAMESPACE_LABEL: namespace}
    for policy in inventory.of_kind("CiliumClusterwideNetworkPolicy"):
        for spec in cilium_specs(policy):
            selector = Selector.parse(spec.get("endpointSelector"), strip_prefixes=("k8s:", "any:"))
            if (
                selector is not None
                and isinstance(spec.get("endpointSelector"), dict)
                and (selector.matches(pseudo_labels))
            ):
                return True
    return False


@register(
    id="namespace-no-network-policy",
    title="Namespace has no NetworkPolicy",
    category=Category.NETWORK,
    severity=Severity.MEDIUM,
    target="Namespace",
    requires=("NetworkPolicy",),
    applies=_holds_workloads,
    frameworks=Frameworks(cis=("5.3.2",), nsa=("Network separation and hardening",)),
    description="""
A namespace without a single NetworkPolicy leaves everything in it open to the whole cluster.
Passes with at least one NetworkPolicy, CiliumNetworkPolicy or Calico NetworkPolicy in the
namespace, or a CiliumClusterwideNetworkPolicy or Calico GlobalNetworkPolicy that applies to
every pod there. `kube-public` and
`kube-node-lease` hold no workloads and are not evaluated.
""",
    remediation="""
```yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: shop
spec:
  podSelector: {}
  policyTypes: ["Ingress", "Egress"]
```
""",
)
def namespace_no_network_policy(namespace: Resource, ctx) -> Iterator[Failure]:
    inventory = ctx.inventory
    if inventory.in_namespace("NetworkPolicy", namespace.name) or inventory.in_namespace(
        "CiliumNetworkPolicy", namespace.name
    ):
        return
    if _cluster_policies_cover(inventory, namespace.name):
        return
    for policy in calico.policies_for(inventory, namespace.name):
        # A namespace's own Calico policy, or a global one that holds for every pod in it.
        if policy.kind != calico.GLOBAL_KIND or calico.selects_every_pod(policy, namespace.name):
            return
    yield Failure(
        message=f"namespace {namespace.name} has no NetworkPolicy", path="metadata.name", value=namespace.name
    )


def _denied_directions(inventory, namespace: str) -> set[str]:
    denied: set[str] = set()
    for policy in inventory.in_namespace("NetworkPolicy", namespace):
        spec = policy.spec
        selector = Selector.parse(spec.get("podSelector"))
        if selector is None or not selector.is_empty:
            continue
        for direction, rules_key in (("Ingress", "ingress"), ("Egress", "egress")):
            if direction in policy_types(spec) and not as_list(spec.get(rules_key)):
                denied.add(direction)
    cilium = [
        *inventory.in_namespace("CiliumNetworkPolicy", namespace),
        *inventory.of_kind("CiliumClusterwideNetworkPolicy"),
    ]
    for policy in cilium:
        for spec in cilium_specs(policy):
            selector = Selector.parse(spec.get("endpointSelector"), strip_prefixes=("k8s:", "any:"))
            if (
                selector is None
                or not selector.is_empty
                or not isinstance(spec.get("endpointSelector"), dict)
            ):
                continue
            # An empty rule list (or empty rules) selects the endpoints and allows nothing.
            for direction, rules_key in (("Ingress", "ingress"), ("Egress", "egress")):
                rules = spec.get(rules_key)
                if isinstance(rules, list) and all(rule == {} for rule in rules):
                    denied.add(direction)
    for policy in calico.policies_for(inventory, namespace):
        if calico.selects_every_pod(policy, namespace):
            denied |= calico.denied_directions(policy)
    return denied


@register(
    id="namespace-no-default-deny",
    title="Namespace has no default-deny NetworkPolicy",
    category=Category.NETWORK,
    severity=Severity.MEDIUM,
    target="Namespace",
    requires=("NetworkPolicy",),
    applies=_holds_workloads,
    frameworks=Frameworks(cis=("5.3.2",), nsa=("Network separation and hardening",), mitre=("T1046",)),
    description="""
Per-workload policies only protect the workloads someone remembered. A default-deny policy
(empty `podSelector`, no rules) makes isolation the default for everything in the
namespace, including what is deployed next month. Both directions are required: ingress
stops lateral movement in, egress stops exfiltration and callbacks out. The two may come from
separate policies. Cilium policies count in their simple deny-all form (empty endpoint
selector, empty rule list); Calico policies (a namespace's own, or global ones) when their
selector holds for every pod of the namespace (`all()`, or only its
`projectcalico.org/namespace`) and a direction they cover has no rule but Deny or Log.
""",
    remediation="""
```yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: shop
spec:
  podSelector: {}
  policyTypes: ["Ingress", "Egress"]
```
Then allow DNS and each workload's real dependencies with further policies.
""",
)
def namespace_no_default_deny(namespace: Resource, ctx) -> Iterator[Failure]:
    missing = sorted({"Ingress", "Egress"} - _denied_directions(ctx.inventory, namespace.name))
    if missing:
        yield Failure(
            message=f"namespace {namespace.name} has no default-deny policy for "
            + " and ".join(missing).lower(),
            path="metadata.name",
            value=missing,
        )


def _allows_any_peer(peers) -> bool:
    if not isinstance(peers, list) or not peers:
        return True  # no peer list: every source (or destination)
    for peer in peers:
        block = as_dict(as_dict(peer).get("ipBlock"))
        if str(block.get("cidr")) in _ANYWHERE and not block.get("except"):
            return True
    return False


@register(
    id="network-policy-allow-all",
    title="NetworkPolicy admits all ingress traffic",
    category=Category.NETWORK,
    severity=Severity.MEDIUM,
    target="NetworkPolicy",
    frameworks=Frameworks(cis=("5.3.2",), nsa=("Network separation and hardening",)),
    description="""
An ingress rule with no peers and no ports (`ingress: [{}]`), or one open to `0.0.0.0/0` on
every port, lets anything reach every port of the pods it selects: they are isolated in name
only, and a default-deny in the namespace is undone for them. Rules restricted to some ports
or some sources are not reported. Egress rules open to everywhere are not reported either:
they are the common, deliberate form for a workload that calls external services, and the
egress default is judged by `namespace-no-default-deny`.
""",
    remediation="""
Name the peers and ports that are needed:

```yaml
ingress:
  - from:
      - podSelector:
          matchLabels:
            app: frontend
    ports:
      - port: 8080
```
""",
)
def network_policy_allow_all(policy: Resource, _ctx) -> Iterator[Failure]:
    spec = policy.spec
    types = policy_types(spec)
    if "Ingress" not in types:
        return
    for index, rule in enumerate(as_list(spec.get("ingress"))):
        rule = as_dict(rule)
        if not as_list(rule.get("ports")) and _allows_any_peer(rule.get("from")):
            yield Failure(
                message=f"ingress rule {index} admits every source on every port",
                path=f"spec.ingress[{index}]",
                value=rule,
            )
