"""What an RBAC rule grants, and which RBAC objects belong to Kubernetes itself.

How Kubernetes' own RBAC is recognised (so that it is not reported as noise):

- A Role, ClusterRole or binding is **platform-owned** when its name starts with a
  reserved prefix (``system:``, reserved by Kubernetes; ``eks:``, ``gce:`` and
  ``kubeadm:``, used by EKS, GKE and kubeadm for what they install), or when it carries
  the ``kubernetes.io/bootstrapping: rbac-defaults`` label the API server puts on its
  bootstrap policy, or the ``addonmanager.kubernetes.io/mode`` label of managed add-ons.
- The user-facing default ClusterRoles ``cluster-admin``, ``admin``, ``edit`` and ``view``
  are Kubernetes' own too: never reported as roles, but a binding that grants one of them
  is judged by what it grants. When they were not collected (a manifest scan), their
  rules come from ``DEFAULT_CLUSTER_ROLES`` below.
- A custom role bound only by platform-owned bindings serves the platform and is not reported.

Names and labels can be chosen by anyone who may create a binding, so they never exempt a
binding to everyone (``system:anonymous``, ``system:unauthenticated``,
``system:authenticated``): only Kubernetes' own default grants to those groups are
recognised, by the role they grant. ``system:masters`` is never exempt either.
"""

from dataclasses import dataclass

from posture.scanning.checks.common import as_list
from posture.scanning.inventory import RbacGraph, Resource, RoleRef, Subject

PLATFORM_PREFIXES = ("system:", "eks:", "gce:", "kubeadm:")
PLATFORM_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
ADDON_MANAGER_LABEL = "addonmanager.kubernetes.io/mode"
DEFAULT_USER_ROLES = frozenset({"cluster-admin", "admin", "edit", "view"})
ANONYMOUS = (Subject("User", "system:anonymous"), Subject("Group", "system:unauthenticated"))
EVERY_AUTHENTICATED = Subject("Group", "system:authenticated")
EVERYONE = frozenset({*ANONYMOUS, EVERY_AUTHENTICATED})

_WRITE = ["create", "delete", "deletecollection", "patch", "update"]
_READ = ["get", "list", "watch"]
# The essentials of Kubernetes' default user-facing ClusterRoles, for scans that did not
# collect them. Only what the checks look at is spelled out; view grants nothing they report.
DEFAULT_CLUSTER_ROLES: dict[str, list[dict]] = {
    "cluster-admin": [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
        {"nonResourceURLs": ["*"], "verbs": ["*"]},
    ],
    "edit": [
        {
            "apiGroups": [""],
            "resources": [
                "pods",
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "secrets",
                "services/proxy",
            ],
            "verbs": _READ,
        },
        {
            "apiGroups": [""],
            "resources": [
                "pods",
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "configmaps",
                "secrets",
                "services",
                "serviceaccounts",
                "persistentvolumeclaims",
                "replicationcontrollers",
            ],
            "verbs": _WRITE,
        },
        {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]},
        {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
        {
            "apiGroups": ["apps"],
            "resources": ["daemonsets", "deployments", "replicasets", "statefulsets"],
            "verbs": _WRITE,
        },
        {"apiGroups": ["batch"], "resources": ["cronjobs", "jobs"], "verbs": _WRITE},
    ],
    "view": [
        {
            "apiGroups": ["", "apps", "batch"],
            "resources": ["pods", "services", "configmaps", "deployments", "jobs"],
            "verbs": _READ,
        },
    ],
}
DEFAULT_CLUSTER_ROLES["admin"] = [
    *DEFAULT_CLUSTER_ROLES["edit"],
    {
        "apiGroups": ["rbac.authorization.k8s.io"],
        "resources": ["roles", "rolebindings"],
        "verbs": [*_READ, *_WRITE],
    },
]


def is_platform_object(resource: Resource) -> bool:
    if resource.name.startswith(PLATFORM_PREFIXES):
        return True
    labels = resource.labels
    return ADDON_MANAGER_LABEL in labels or any(labels.get(k) == v for k, v in PLATFORM_LABELS.items())


def is_platform_binding(binding: Resource, graph: RbacGraph) -> bool:
    """Platform-owned, and not a grant to everyone (which a name alone must not hide)."""
    return is_platform_object(binding) and not any(s in EVERYONE for s in graph.subjects(binding))


def is_platform_role(role: Resource) -> bool:
    return is_platform_object(role) or (role.kind == "ClusterRole" and role.name in DEFAULT_USER_ROLES)


def is_platform_ref(ref: RoleRef) -> bool:
    return ref.name.startswith(PLATFORM_PREFIXES) or (
        ref.kind == "ClusterRole" and ref.name in DEFAULT_USER_ROLES
    )


@dataclass(frozen=True, slots=True)
class Rule:
    verbs: frozenset[str]
    groups: frozenset[str]
    resources: frozenset[str]
    names: frozenset[str]
    raw: dict

    @classmethod
    def of(cls, raw: dict) -> "Rule":
        def values(key: str) -> frozenset[str]:
            return frozenset(str(v) for v in as_list(raw.get(key)))

        return cls(values("verbs"), values("apiGroups"), values("resources"), values("resourceNames"), raw)

    def has_verb(self, *verbs: str) -> bool:
        return "*" in self.verbs or any(v in self.verbs for v in verbs)

    def has_group(self, *groups: str) -> bool:
        return "*" in self.groups or any(g in self.groups for g in groups)

    def has_resource(self, resource: str) -> bool:
        if "*" in self.resources or resource in self.resources:
            return True
        # As the authorizer's ResourceMatches: `*/exec` matches a subresource of every
        # resource, but `pods/*` is a literal name that matches nothing.
        _, _, sub = resource.partition("/")
        return bool(sub) and f"*/{sub}" in self.resources

    def grants(self, verbs: tuple[str, ...], groups: tuple[str, ...], resources: tuple[str, ...]) -> bool:
        return (
            self.has_verb(*verbs) and self.has_group(*groups) and any(self.has_resource(r) for r in resources)
        )


@dataclass(frozen=True, slots=True)
class Grant:
    """One rule a role (or a default role it binds) grants: where it is written and what it is."""

    role: str  # e.g. "ClusterRole view" or "ClusterRole cluster-admin (Kubernetes default)"
    path: str
    rule: Rule


def role_grants(graph: RbacGraph, role: Resource, *, own_only: bool = False) -> list[Grant]:
    if own_only:
        entries = [
            (role, i, raw) for i, raw in enumerate(as_list(role.raw.get("rules"))) if isinstance(raw, dict)
        ]
    else:
        entries = graph.effective_rules(role)
    grants = []
    for source, index, raw in entries:
        where = (
            f"rules[{index}]"
            if source is role
            else f"aggregationRule (from ClusterRole {source.name} rules[{index}])"
        )
        grants.append(Grant(f"{source.kind} {source.name}", where, Rule.of(raw)))
    return grants


def ref_grants(graph: RbacGraph, ref: RoleRef) -> list[Grant] | None:
    """Rules behind a binding's roleRef: collected, or Kubernetes' defaults; None when unknown."""
    role = graph.role(ref)
    if role is not None:
        return role_grants(graph, role)
    if ref.kind == "ClusterRole" and ref.name in DEFAULT_CLUSTER_ROLES:
        return [
            Grant(f"ClusterRole {ref.name} (Kubernetes default)", f"rules[{i}]", Rule.of(raw))
            for i, raw in enumerate(DEFAULT_CLUSTER_ROLES[ref.name])
        ]
    return None


def is_admin_equivalent(rule: Rule) -> bool:
    """Every verb (or every write verb) on every resource of every group, or of the core group."""
    writes_everything = "*" in rule.verbs or {"create", "update", "patch", "delete"} <= rule.verbs
    return writes_everything and "*" in rule.resources and rule.has_group("") and not rule.names
