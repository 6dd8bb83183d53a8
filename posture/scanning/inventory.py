"""The objects one scan looked at, with the lookups checks need.

Objects are plain dicts exactly as the Kubernetes API (or a manifest) has them.
Indexes are built once, lazily, so that checks never compare every pair: label
selectors are indexed by namespace and by one of their labels, Services find
their workloads through an inverted label index, and the RBAC graph links
bindings, roles (with aggregation) and subjects.
"""

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

# Where each workload kind keeps its pod spec, as a dotted path prefix.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
WORKLOAD_KINDS = frozenset(POD_SPEC_PATHS)
CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")

# Kinds without a namespace. Manifests sometimes give them one anyway (it is
# ignored by the API server); dropping it keeps identities and lookups right.
_CLUSTER_SCOPED = """Namespace Node PersistentVolume StorageClass ClusterRole ClusterRoleBinding
    CustomResourceDefinition PriorityClass RuntimeClass IngressClass APIService ValidatingWebhookConfiguration
    MutatingWebhookConfiguration ValidatingAdmissionPolicy ValidatingAdmissionPolicyBinding PodSecurityPolicy
    CSIDriver CSINode VolumeAttachment CertificateSigningRequest CiliumClusterwideNetworkPolicy
    ClusterSecretStore ClusterExternalSecret FlowSchema PriorityLevelConfiguration GatewayClass
    KongClusterPlugin GlobalNetworkPolicy"""
CLUSTER_SCOPED_KINDS = frozenset(_CLUSTER_SCOPED.split())


@contextmanager
def cyclic_gc_paused():
    """Pause the cyclic garbage collector around bulk, cycle-free allocation.

    Building an inventory or running a scan allocates hundreds of thousands of objects
    next to a large live heap; every automatic collection would walk that whole heap
    again, which makes a big scan superlinear. Reference counting still frees
    everything; the collector resumes (if it was on) when the block ends.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _dig(obj: dict, keys: Iterable[str]):
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


# Kinds that other projects' objects share, and the API groups whose objects the checks mean.
# Calico's and Antrea's NetworkPolicy, Istio's Gateway and Knative's Service have other fields and
# other meanings: an object of such a kind from another group is given its group in its kind
# ("NetworkPolicy.projectcalico.org"), so that no check reads it as the one it knows.
SHARED_KIND_GROUPS: dict[str, frozenset[str]] = {
    "NetworkPolicy": frozenset({"networking.k8s.io", "extensions"}),
    "Gateway": frozenset({"gateway.networking.k8s.io"}),
    "Service": frozenset({""}),
}


def qualified_kind(kind: str, group: str) -> str:
    """The kind the inventory files an object of this kind and API group under."""
    groups = SHARED_KIND_GROUPS.get(kind)
    return f"{kind}.{group}" if groups is not None and group and group not in groups else kind


class Resource:
    """One Kubernetes object and its identity."""

    __slots__ = ("raw", "kind", "api_version", "namespace", "name", "metadata")

    def __init__(self, raw: dict):
        self.raw = raw
        self.api_version: str = raw.get("apiVersion") or ""
        kind = raw.get("kind") or ""
        if kind in SHARED_KIND_GROUPS:
            kind = qualified_kind(kind, self.api_version.rpartition("/")[0])
        self.kind: str = kind
        metadata = raw.get("metadata")
        self.metadata: dict = metadata if isinstance(metadata, dict) else {}
        namespace = self.metadata.get("namespace") or ""
        self.namespace: str = "" if self.kind in CLUSTER_SCOPED_KINDS else str(namespace)
        self.name: str = str(self.metadata.get("name") or self.metadata.get("generateName") or "")

    @property
    def labels(self) -> dict:
        labels = self.metadata.get("labels")
        return labels if isinstance(labels, dict) else {}

    @property
    def annotations(self) -> dict:
        annotations = self.metadata.get("annotations")
        return annotations if isinstance(annotations, dict) else {}

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    @property
    def spec(self) -> dict:
        spec = self.raw.get("spec")
        return spec if isinstance(spec, dict) else {}

    def __repr__(self) -> str:
        return f"<{self.kind} {self.namespace}/{self.name}>"


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    spec: dict
    path: str  # e.g. "spec.template.spec.containers[0]"
    field: str  # initContainers, containers or ephemeralContainers
    # Read by a dozen checks each: taken out of the spec once (as {} or "" when absent or malformed).
    security_context: dict
    image: str

    @classmethod
    def of(cls, spec: dict, field: str, index: int, pod_spec_path: str) -> "Container":
        security_context, image = spec.get("securityContext"), spec.get("image")
        return cls(
            name=str(spec.get("name") or f"{field}[{index}]"),
            spec=spec,
            path=f"{pod_spec_path}.{field}[{index}]",
            field=field,
            security_context=security_context if isinstance(security_context, dict) else {},
            image=image if isinstance(image, str) else "",
        )

    def items(self, key: str) -> Iterator[tuple[int, dict]]:
        """Index and value of each dict in a list field (env, ports, volumeMounts...)."""
        values = self.spec.get(key)
        if isinstance(values, list):
            for index, value in enumerate(values):
                if isinstance(value, dict):
                    yield index, value


class Workload(Resource):
    """A controller (or bare Pod) seen through its pod template."""

    __slots__ = (
        "pod_spec",
        "pod_spec_path",
        "pod_security_context",
        "pod_template_labels",
        "pod_template_annotations",
        "_containers",
    )

    def __init__(self, raw: dict):
        super().__init__(raw)
        keys = POD_SPEC_PATHS[self.kind]
        spec = _dig(raw, keys)
        self.pod_spec: dict = spec if isinstance(spec, dict) else {}
        self.pod_spec_path = ".".join(keys)
        security_context = self.pod_spec.get("securityContext")
        self.pod_security_context: dict = security_context if isinstance(security_context, dict) else {}
        template = self.metadata if self.kind == "Pod" else _dig(raw, keys[:-1] + ("metadata",))
        template = template if isinstance(template, dict) else {}
        labels, annotations = template.get("labels"), template.get("annotations")
        self.pod_template_labels: dict = labels if isinstance(labels, dict) else {}
        self.pod_template_annotations: dict = annotations if isinstance(annotations, dict) else {}
        self._containers: list[Container] | None = None

    @property
    def service_account_name(self) -> str:
        # serviceAccount is the deprecated alias the API still honours.
        name = self.pod_spec.get("serviceAccountName") or self.pod_spec.get("serviceAccount")
        return name if isinstance(name, str) and name else "default"

    def volumes(self) -> Iterator[tuple[int, dict]]:
        values = self.pod_spec.get("volumes")
        if isinstance(values, list):
            for index, value in enumerate(values):
                if isinstance(value, dict):
                    yield index, value

    @property
    def containers(self) -> list[Container]:
        if self._containers is None:
            found = []
            for field_name in CONTAINER_FIELDS:
                items = self.pod_spec.get(field_name)
                if not isinstance(items, list):
                    continue
                for index, spec in enumerate(items):
                    if isinstance(spec, dict):
                        found.append(Container.of(spec, field_name, index, self.pod_spec_path))
            self._containers = found
        return self._containers


def make_resource(raw: dict) -> Resource:
    return Workload(raw) if raw.get("kind") in WORKLOAD_KINDS else Resource(raw)


# --- label selectors ---------------------------------------------------------


class Selector:
    """A compiled LabelSelector (matchLabels + matchExpressions).

    ``parse`` returns None for a selector the API server would reject; such a
    selector selects nothing rather than everything.
    """

    __slots__ = ("match_labels", "expressions")

    def __init__(self, match_labels: dict[str, str], expressions: tuple[tuple[str, str, frozenset], ...]):
        self.match_labels = match_labels
        self.expressions = expressions

    @classmethod
    def parse(cls, raw, *, strip_prefixes: tuple[str, ...] = ()) -> "Selector | None":
        if raw is None:
            return cls({}, ())
        if not isinstance(raw, dict) or set(raw) - {"matchLabels", "matchExpressions"}:
            return None
        labels = raw.get("matchLabels") or {}
        exprs = raw.get("matchExpressions") or []
        if not isinstance(labels, dict) or not isinstance(exprs, list):
            return None
        match_labels = {cls._key(k, strip_prefixes): str(v) for k, v in labels.items()}
        expressions = []
        for expr in exprs:
            if not isinstance(expr, dict) or expr.get("operator") not in (
                "In",
                "NotIn",
                "Exists",
                "DoesNotExist",
            ):
                return None
            values = expr.get("values") or []
            if not isinstance(values, list):
                return None
            key = cls._key(str(expr.get("key") or ""), strip_prefixes)
            expressions.append((key, expr["operator"], frozenset(map(str, values))))
        return cls(match_labels, tuple(expressions))

    @staticmethod
    def _key(key: str, prefixes: tuple[str, ...]) -> str:
        for prefix in prefixes:
            if key.startswith(prefix):
                return key[len(prefix) :]
        return key

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.expressions

    def matches(self, labels: dict) -> bool:
        for key, value in self.match_labels.items():
            if key not in labels or str(labels[key]) != value:
                return False
        for key, operator, values in self.expressions:
            present = key in labels
            if operator == "In":
                if not present or str(labels[key]) not in values:
                    return False
            elif operator == "NotIn":
                if present and str(labels[key]) in values:
                    return False
            elif operator == "Exists":
                if not present:
                    return False
            elif present:  # DoesNotExist
                return False
        return True


class SelectorIndex:
    """Which of many selectors select one label set, without trying them all.

    Each selector is filed under its namespace (None: every namespace) and one
    of its matchLabels pairs; a lookup tries only the selectors filed under a
    pair the labels carry, plus those with no matchLabels at all.
    """

    def __init__(self):
        self._unkeyed: dict[str | None, list] = defaultdict(list)
        self._keyed: dict[str | None, dict[tuple[str, str], list]] = defaultdict(lambda: defaultdict(list))

    def add(self, namespace: str | None, selector: Selector, item) -> None:
        if selector.match_labels:
            pair = min(selector.match_labels.items())
            self._keyed[namespace][pair].append((selector, item))
        else:
            self._unkeyed[namespace].append((selector, item))

    def matching(self, namespace: str, labels: dict) -> list:
        found = []
        for scope in (namespace, None):
            candidates = list(self._unkeyed.get(scope, ()))
            keyed = self._keyed.get(scope)
            if keyed:
                for pair in labels.items():
                    candidates.extend(keyed.get((pair[0], str(pair[1])), ()))
            found.extend(item for selector, item in candidates if selector.matches(labels))
        return found


class LabelIndex:
    """Workloads by namespace and pod-template label, to resolve a Service's selector."""

    def __init__(self, workloads: Iterable[Workload]):
        self._postings: dict[str, dict[tuple[str, str], list[Workload]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for workload in workloads:
            postings = self._postings[workload.namespace]
            for key, value in workload.pod_template_labels.items():
                postings[(key, str(value))].append(workload)

    def select(self, namespace: str, selector: dict) -> list[Workload]:
        """Workloads whose pods carry every label of a Service-style (equality) selector."""
        if not isinstance(selector, dict) or not selector:
            return []
        postings = self._postings.get(namespace)
        if not postings:
            return []
        pairs = [(str(k), str(v)) for k, v in selector.items()]
        lists = [postings.get(pair, ()) for pair in pairs]
        smallest = min(lists, key=len)
        return [
            w
            for w in smallest
            if all(k in w.pod_template_labels and str(w.pod_template_labels[k]) == v for k, v in pairs)
        ]


# --- RBAC graph ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subject:
    kind: str  # User, Group or ServiceAccount
    name: str
    namespace: str = ""

    def __str__(self) -> str:
        if self.kind == "ServiceAccount":
            return f"ServiceAccount {self.namespace}/{self.name}"
        return f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class RoleRef:
    kind: str  # Role or ClusterRole
    namespace: str  # the binding's namespace for a Role, "" for a ClusterRole
    name: str

    def __str__(self) -> str:
        return f"Role {self.namespace}/{self.name}" if self.kind == "Role" else f"ClusterRole {self.name}"


class RbacGraph:
    """Bindings, the roles they reference, and the subjects they name.

    Rules of an aggregated ClusterRole are the union of the rules of every
    ClusterRole its ``aggregationRule`` selects (transitively), as the
    aggregation controller would compute them.
    """

    def __init__(self, inventory: "Inventory"):
        self.roles: dict[tuple[str, str, str], Resource] = {}
        for kind in ("Role", "ClusterRole"):
            for role in inventory.of_kind(kind):
                self.roles[(kind, role.namespace, role.name)] = role
        self.bindings: list[Resource] = [
            *inventory.of_kind("RoleBinding"),
            *inventory.of_kind("ClusterRoleBinding"),
        ]
        self._bindings_by_role: dict[RoleRef, list[Resource]] = defaultdict(list)
        for binding in self.bindings:
            ref = self.role_ref(binding)
            if ref is not None:
                self._bindings_by_role[ref].append(binding)
        self._cluster_roles = inventory.of_kind("ClusterRole")
        self._effective: dict[tuple[str, str, str], list[tuple[Resource, int, dict]]] = {}

    @staticmethod
    def role_ref(binding: Resource) -> RoleRef | None:
        ref = binding.raw.get("roleRef")
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
            return None
        kind = ref.get("kind")
        if kind == "ClusterRole":
            return RoleRef("ClusterRole", "", ref["name"])
        if kind == "Role" and binding.kind == "RoleBinding":
            return RoleRef("Role", binding.namespace, ref["name"])
        return None  # a ClusterRoleBinding cannot reference a Role: the API rejects it

    def role(self, ref: RoleRef) -> Resource | None:
        return self.roles.get((ref.kind, ref.namespace, ref.name))

    def bindings_of(self, role: Resource) -> list[Resource]:
        namespace = role.namespace if role.kind == "Role" else ""
        return self._bindings_by_role.get(RoleRef(role.kind, namespace, role.name), [])

    @staticmethod
    def subjects(binding: Resource) -> list[Subject]:
        found = []
        raw = binding.raw.get("subjects")
        for subject in raw if isinstance(raw, list) else ():
            if not isinstance(subject, dict) or not isinstance(subject.get("name"), str):
                continue
            kind = str(subject.get("kind") or "")
            namespace = str(subject.get("namespace") or "") if kind == "ServiceAccount" else ""
            if kind == "ServiceAccount" and not namespace:
                namespace = binding.namespace  # the API defaults it for RoleBindings
            found.append(Subject(kind, subject["name"], namespace))
        return found

    def effective_rules(self, role: Resource) -> list[tuple[Resource, int, dict]]:
        """(role the rule is written in, its index, the rule) for every rule the role grants."""
        key = role.key
        if key not in self._effective:
            self._effective[key] = self._collect(role, set())
        return self._effective[key]

    def _collect(self, role: Resource, seen: set) -> list[tuple[Resource, int, dict]]:
        seen.add(role.key)
        aggregation = role.raw.get("aggregationRule") if role.kind == "ClusterRole" else None
        if not isinstance(aggregation, dict):
            rules = role.raw.get("rules")
            return [
                (role, i, rule)
                for i, rule in enumerate(rules if isinstance(rules, list) else ())
                if isinstance(rule, dict)
            ]
        # The aggregation controller overwrites an aggregated ClusterRole's rules with the
        # union of the rules of the roles it selects: rules written there never take effect.
        # An empty selector selects every ClusterRole, as LabelSelectorAsSelector reads it.
        selectors = aggregation.get("clusterRoleSelectors")
        parsed = (Selector.parse(raw) for raw in (selectors if isinstance(selectors, list) else ()))
        compiled = [selector for selector in parsed if selector is not None]
        found = []
        known = set()
        for other in self._cluster_roles:
            if other.key in seen or not any(s.matches(other.labels) for s in compiled):
                continue
            for entry in self._collect(other, seen):
                if (id(entry[0]), entry[1]) not in known:
                    known.add((id(entry[0]), entry[1]))
                    found.append(entry)
        return found


# --- the inventory ---------------------------------------------------------------


@dataclass
class Inventory:
    """Everything one collection produced.

    ``coverage_gaps`` maps a resource kind that could not be read to the reason,
    so that checks depending on it report "not assessed" instead of passing.
    ``api_groups`` are the API groups the server offers (from discovery, when the
    collector read it): how an installed CRD shows even when none of its objects exist.
    """

    resources: list[Resource] = field(default_factory=list)
    coverage_gaps: dict[str, str] = field(default_factory=dict)
    server_version: dict | None = None
    source: str = ""
    api_groups: frozenset[str] = frozenset()

    @classmethod
    def from_objects(cls, objects: Iterable[dict], **kwargs) -> "Inventory":
        with cyclic_gc_paused():
            return cls(resources=[make_resource(obj) for obj in objects], **kwargs)

    def __len__(self) -> int:
        return len(self.resources)

    @cached_property
    def by_kind(self) -> dict[str, list[Resource]]:
        index: dict[str, list[Resource]] = defaultdict(list)
        for resource in self.resources:
            index[resource.kind].append(resource)
        return dict(index)

    def of_kind(self, kind: str) -> list[Resource]:
        return self.by_kind.get(kind, [])

    def counts_by_kind(self) -> dict[str, int]:
        return {kind: len(items) for kind, items in sorted(self.by_kind.items())}

    def has(self, kind: str, namespace: str, name: str) -> bool:
        return (kind, namespace, name) in self._by_key

    def get(self, kind: str, namespace: str, name: str) -> Resource | None:
        return self._by_key.get((kind, namespace, name))

    @cached_property
    def _by_key(self) -> dict[tuple[str, str, str], Resource]:
        return {resource.key: resource for resource in self.resources}

    def _controlled_by_present_owner(self, resource: Resource) -> bool:
        owners = resource.metadata.get("ownerReferences")
        if not isinstance(owners, list):
            return False
        for owner in owners:
            if (
                isinstance(owner, dict)
                and owner.get("controller")
                and isinstance(owner.get("kind"), str)
                and isinstance(owner.get("name"), str)
                and owner["kind"] in WORKLOAD_KINDS
                and self.has(owner["kind"], resource.namespace, owner["name"])
            ):
                return True
        return False

    @cached_property
    def workloads(self) -> list[Workload]:
        """Workloads to evaluate: each pod template once, at its top-most owner.

        A Pod whose ReplicaSet is present is evaluated through the ReplicaSet,
        which in turn defers to its Deployment; an owner that was not collected
        leaves the child to stand for itself, so nothing goes unevaluated.
        """
        return [
            resource
            for kind in POD_SPEC_PATHS
            for resource in self.of_kind(kind)
            if isinstance(resource, Workload) and not self._controlled_by_present_owner(resource)
        ]

    @cached_property
    def _top_level_workload_ids(self) -> set[int]:
        return {id(w) for w in self.workloads}

    def objects_of(self, kinds: Iterable[str]) -> list[Resource]:
        """Objects of these kinds; workloads only at their top-most owner."""
        found: list[Resource] = []
        top = None
        for kind in kinds:
            if kind in WORKLOAD_KINDS:
                top = top if top is not None else self._top_level_workload_ids
                found.extend(r for r in self.of_kind(kind) if id(r) in top)
            else:
                found.extend(self.of_kind(kind))
        return found

    # -- namespaces --

    @cached_property
    def namespaces(self) -> dict[str, Resource]:
        return {ns.name: ns for ns in self.of_kind("Namespace")}

    def in_namespace(self, kind: str, namespace: str) -> list[Resource]:
        cache = self._namespace_indexes
        if kind not in cache:
            index: dict[str, list[Resource]] = defaultdict(list)
            for resource in self.of_kind(kind):
                index[resource.namespace].append(resource)
            cache[kind] = dict(index)
        return cache[kind].get(namespace, [])

    @cached_property
    def _namespace_indexes(self) -> dict[str, dict[str, list[Resource]]]:
        return {}

    # -- network policies and services --

    @cached_property
    def network_policies(self) -> SelectorIndex:
        """Pod selectors of NetworkPolicies and Cilium policies; items are (policy, its spec)."""
        index = SelectorIndex()
        for policy in self.of_kind("NetworkPolicy"):
            spec = policy.spec
            selector = Selector.parse(spec.get("podSelector"))
            if selector is not None:
                index.add(policy.namespace, selector, (policy, spec))
        for kind in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
            for policy in self.of_kind(kind):
                scope = policy.namespace if kind == "CiliumNetworkPolicy" else None
                for spec in cilium_specs(policy):
                    selector = Selector.parse(spec.get("endpointSelector"), strip_prefixes=("k8s:", "any:"))
                    if selector is not None and isinstance(spec.get("endpointSelector"), dict):
                        index.add(scope, selector, (policy, spec))
        return index

    def policies_selecting(self, workload: Workload) -> list[tuple[Resource, dict]]:
        labels = workload.pod_template_labels
        if self._has_cilium_clusterwide:
            # Cilium gives every endpoint its namespace as a label; clusterwide policies select by it.
            labels = {**labels, CILIUM_NAMESPACE_LABEL: workload.namespace}
        return self.network_policies.matching(workload.namespace, labels)

    @cached_property
    def _has_cilium_clusterwide(self) -> bool:
        return bool(self.of_kind("CiliumClusterwideNetworkPolicy"))

    @cached_property
    def workload_labels(self) -> LabelIndex:
        return LabelIndex(self.workloads)

    def workloads_selected_by(self, namespace: str, selector: dict) -> list[Workload]:
        return self.workload_labels.select(namespace, selector)

    @cached_property
    def rbac(self) -> RbacGraph:
        return RbacGraph(self)

    def memo(self, key: str, compute: Callable[[], object]):
        """A fact derived from the whole inventory, computed once per scan: checks stay pure,
        and the inventory is where what they share is kept."""
        memo = self._memo
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    @cached_property
    def _memo(self) -> dict:
        return {}


CILIUM_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"


def cilium_specs(policy: Resource) -> list[dict]:
    # A Cilium policy carries one rule in ``spec`` or several in ``specs``.
    specs = []
    if isinstance(policy.raw.get("spec"), dict):
        specs.append(policy.raw["spec"])
    if isinstance(policy.raw.get("specs"), list):
        specs.extend(s for s in policy.raw["specs"] if isinstance(s, dict))
    return specs
