"""The objects one scan looked at, with the lookups checks need.

Objects are plain dicts exactly as the Kubernetes API (or a manifest) has them.
Indexes are built once, lazily, so that checks never compare every pair.
"""

from collections import defaultdict
from collections.abc import Iterable
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


def _dig(obj: dict, keys: Iterable[str]):
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


class Resource:
    """One Kubernetes object and its identity."""

    __slots__ = ("raw", "kind", "api_version", "namespace", "name", "metadata")

    def __init__(self, raw: dict):
        self.raw = raw
        self.kind: str = raw.get("kind") or ""
        self.api_version: str = raw.get("apiVersion") or ""
        metadata = raw.get("metadata")
        self.metadata: dict = metadata if isinstance(metadata, dict) else {}
        self.namespace: str = self.metadata.get("namespace") or ""
        self.name: str = self.metadata.get("name") or self.metadata.get("generateName") or ""

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

    def __repr__(self) -> str:
        return f"<{self.kind} {self.namespace}/{self.name}>"


@dataclass(frozen=True, slots=True)
class Container:
    name: str
    spec: dict
    path: str  # e.g. "spec.template.spec.containers[0]"
    field: str  # initContainers, containers or ephemeralContainers

    @property
    def security_context(self) -> dict:
        sc = self.spec.get("securityContext")
        return sc if isinstance(sc, dict) else {}


class Workload(Resource):
    """A controller (or bare Pod) seen through its pod template."""

    __slots__ = ("pod_spec", "pod_spec_path", "_containers")

    def __init__(self, raw: dict):
        super().__init__(raw)
        keys = POD_SPEC_PATHS[self.kind]
        spec = _dig(raw, keys)
        self.pod_spec: dict = spec if isinstance(spec, dict) else {}
        self.pod_spec_path = ".".join(keys)
        self._containers: list[Container] | None = None

    @property
    def pod_template_labels(self) -> dict:
        if self.kind == "Pod":
            return self.labels
        keys = POD_SPEC_PATHS[self.kind][:-1] + ("metadata", "labels")
        labels = _dig(self.raw, keys)
        return labels if isinstance(labels, dict) else {}

    @property
    def pod_security_context(self) -> dict:
        sc = self.pod_spec.get("securityContext")
        return sc if isinstance(sc, dict) else {}

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
                        found.append(
                            Container(
                                name=str(spec.get("name") or f"{field_name}[{index}]"),
                                spec=spec,
                                path=f"{self.pod_spec_path}.{field_name}[{index}]",
                                field=field_name,
                            )
                        )
            self._containers = found
        return self._containers


def make_resource(raw: dict) -> Resource:
    return Workload(raw) if raw.get("kind") in WORKLOAD_KINDS else Resource(raw)


@dataclass
class Inventory:
    """Everything one collection produced.

    ``coverage_gaps`` maps a resource kind that could not be read to the reason,
    so that checks depending on it report "not assessed" instead of passing.
    """

    resources: list[Resource] = field(default_factory=list)
    coverage_gaps: dict[str, str] = field(default_factory=dict)
    server_version: dict | None = None
    source: str = ""

    @classmethod
    def from_objects(cls, objects: Iterable[dict], **kwargs) -> "Inventory":
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

    @cached_property
    def _keys(self) -> set[tuple[str, str, str]]:
        return {resource.key for resource in self.resources}

    def has(self, kind: str, namespace: str, name: str) -> bool:
        return (kind, namespace, name) in self._keys

    def _controlled_by_present_owner(self, resource: Resource) -> bool:
        owners = resource.metadata.get("ownerReferences")
        if not isinstance(owners, list):
            return False
        for owner in owners:
            if isinstance(owner, dict) and owner.get("controller") and owner.get("kind") in WORKLOAD_KINDS:
                if self.has(owner["kind"], resource.namespace, owner.get("name") or ""):
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
