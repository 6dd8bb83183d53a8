"""Bindings dangerous because of whom they bind: admins, everyone, system:masters, default accounts."""

from collections.abc import Iterator

from posture.scanning.checks.common import as_dict, as_list
from posture.scanning.checks.rbac.rules import (
    ANONYMOUS,
    EVERY_AUTHENTICATED,
    is_admin_equivalent,
    is_platform_binding,
    ref_grants,
)
from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.inventory import Resource, Subject

BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
# What Kubernetes itself grants these groups by default.
DEFAULT_PUBLIC_ROLES = frozenset({"system:public-info-viewer"})
DEFAULT_AUTHENTICATED_ROLES = frozenset(
    {"system:public-info-viewer", "system:discovery", "system:basic-user"}
)
MASTERS = Subject("Group", "system:masters")


def _subjects_text(subjects) -> str:
    return ", ".join(str(s) for s in subjects) or "no subjects"


@register(
    id="cluster-admin-binding",
    title="Subject bound to cluster-admin",
    category=Category.RBAC,
    severity=Severity.CRITICAL,
    target=Target.RESOURCES,
    kinds=BINDING_KINDS,
    requires=("ClusterRole", "Role"),
    frameworks=Frameworks(cis=("5.1.1",), nsa=("Authentication and authorization",), mitre=("T1078",)),
    description="""
cluster-admin (or any role that grants every verb on every resource) is full control of the
cluster and everything it can reach. Each binding to it is a standing key to the kingdom.
Reported: a binding to the `cluster-admin` ClusterRole, or to a role with a rule granting `*`
(or create, update, patch and delete) on `*` resources of all API groups or of the core group
(which holds pods, Secrets and ServiceAccounts: the same control in practice). As a
RoleBinding it is admin of that namespace, still reported. Kubernetes' own bindings are not
(see "How Kubernetes' own RBAC is recognised").
""",
    remediation="""
Bind a role with the permissions the subject needs; keep cluster-admin for break-glass
accounts, granted just in time:

```yaml
kind: ClusterRoleBinding
roleRef:
  kind: ClusterRole
  name: view
```
""",
)
def cluster_admin_binding(binding: Resource, ctx) -> Iterator[Failure]:
    graph = ctx.inventory.rbac
    if is_platform_binding(binding, graph):
        return
    ref = graph.role_ref(binding)
    if ref is None:
        return
    why = None
    if ref.kind == "ClusterRole" and ref.name == "cluster-admin":
        why = "the cluster-admin ClusterRole"
    else:
        grant = next((g for g in ref_grants(graph, ref) or () if is_admin_equivalent(g.rule)), None)
        if grant is not None:
            why = f"{ref}, which grants every verb on every resource ({grant.path})"
    if why:
        yield Failure(
            message=f"binds {why} to {_subjects_text(graph.subjects(binding))}",
            path="roleRef.name",
            value=ref.name,
        )


@register(
    id="rbac-anonymous-access",
    title="Anonymous or all-authenticated access granted",
    category=Category.RBAC,
    severity=Severity.CRITICAL,
    target=Target.RESOURCES,
    kinds=BINDING_KINDS,
    frameworks=Frameworks(nsa=("Authentication and authorization",), mitre=("T1078.001",)),
    description="""
A binding to `system:anonymous` or `system:unauthenticated` grants its role to anyone who can
reach the API server, with no credentials at all. A binding to `system:authenticated` grants it
to every identity the cluster accepts, which on some managed clusters is anyone with an account
at the cloud provider. Kubernetes' own default grants (`system:public-info-viewer` for
everyone; `system:discovery` and `system:basic-user` for authenticated users) are not reported;
anything else is, whatever the binding is named.
""",
    remediation="""
Delete the binding, or bind the role to the specific users, groups or ServiceAccounts that need it:

```yaml
subjects:
  - kind: Group
    name: platform-team
    apiGroup: rbac.authorization.k8s.io
```
""",
)
def rbac_anonymous_access(binding: Resource, ctx) -> Iterator[Failure]:
    graph = ctx.inventory.rbac
    ref = graph.role_ref(binding)
    role_name = ref.name if ref is not None and ref.kind == "ClusterRole" else None
    for index, subject in enumerate(graph.subjects(binding)):
        if subject in ANONYMOUS and role_name not in DEFAULT_PUBLIC_ROLES:
            who = "anyone, without credentials"
        elif subject == EVERY_AUTHENTICATED and role_name not in DEFAULT_AUTHENTICATED_ROLES:
            who = "every authenticated identity"
        else:
            continue
        yield Failure(
            message=f"grants {ref or 'an unknown role'} to {subject} ({who})",
            path=f"subjects[{index}]",
            value=subject.name,
        )


def _aws_auth(configmap: Resource) -> bool:
    return configmap.kind != "ConfigMap" or (
        configmap.namespace == "kube-system" and configmap.name == "aws-auth"
    )


def _masters_mappings(configmap: Resource) -> Iterator[tuple[str, int, str]]:
    data = as_dict(configmap.raw.get("data"))
    for key in ("mapRoles", "mapUsers"):
        raw = data.get(key)
        if not isinstance(raw, str):
            continue
        # Imported here: only an aws-auth ConfigMap needs PyYAML, which a scan may not load otherwise.
        from posture.scanning.collectors import yaml_documents

        try:
            entries = yaml_documents.load_document(raw)
        except yaml_documents.YAMLError:
            continue
        for index, entry in enumerate(as_list(entries)):
            entry = as_dict(entry)
            if "system:masters" in [str(g) for g in as_list(entry.get("groups"))]:
                yield (
                    key,
                    index,
                    str(entry.get("rolearn") or entry.get("userarn") or entry.get("username") or ""),
                )


@register(
    id="rbac-system-masters",
    title="Identity mapped to system:masters",
    category=Category.RBAC,
    severity=Severity.HIGH,
    target=Target.RESOURCES,
    kinds=(*BINDING_KINDS, "ConfigMap"),
    applies=_aws_auth,
    frameworks=Frameworks(cis=("5.1.7",), nsa=("Authentication and authorization",), mitre=("T1098.006",)),
    description="""
Members of the `system:masters` group bypass RBAC entirely: no binding can be removed to take
their access away, and a client certificate naming the group stays valid until it expires.
Reported: a binding that names `system:masters` as a subject (other than Kubernetes' own
bootstrap binding), which shows the group is being handed out; and, on EKS, an `aws-auth`
ConfigMap entry that maps an IAM role or user to `system:masters`.
""",
    remediation="""
Map people and automation to ordinary groups bound to the roles they need (on EKS, prefer
access entries with an access policy):

```yaml
mapRoles: |
  - rolearn: arn:aws:iam::111122223333:role/platform-admins
    username: platform-admin:{{SessionName}}
    groups: ["platform-admins"]
```
""",
)
def rbac_system_masters(subject: Resource, ctx) -> Iterator[Failure]:
    if subject.kind == "ConfigMap":
        for key, index, identity in _masters_mappings(subject):
            yield Failure(
                message=f"aws-auth maps {identity or 'an identity'} to system:masters",
                path=f"data.{key}[{index}].groups",
                value=identity,
            )
        return
    if subject.labels.get("kubernetes.io/bootstrapping") == "rbac-defaults":
        return  # the cluster-admin binding Kubernetes creates for the group
    for index, bound in enumerate(ctx.inventory.rbac.subjects(subject)):
        if bound == MASTERS:
            yield Failure(
                message="binding names the group system:masters", path=f"subjects[{index}]", value=bound.name
            )


def _default_account(subject: Subject) -> bool:
    if subject.kind == "ServiceAccount":
        return subject.name == "default"
    return subject.kind == "Group" and (
        subject.name == "system:serviceaccounts" or subject.name.startswith("system:serviceaccounts:")
    )


@register(
    id="rbac-default-sa-bound",
    title="Default service account granted permissions",
    category=Category.RBAC,
    severity=Severity.MEDIUM,
    target=Target.RESOURCES,
    kinds=BINDING_KINDS,
    frameworks=Frameworks(cis=("5.1.5",), nsa=("Authentication and authorization",), mitre=("T1078.001",)),
    description="""
Every pod that does not name a ServiceAccount runs as its namespace's `default` account, so a
permission granted to it is granted to all of them. The same holds for the groups
`system:serviceaccounts` (every ServiceAccount in the cluster) and
`system:serviceaccounts:<namespace>`. Kubernetes' own bindings are not reported.
""",
    remediation="""
Create a dedicated ServiceAccount for the workload that needs the permission and bind that:

```yaml
subjects:
  - kind: ServiceAccount
    name: report-runner
    namespace: reports
```
""",
)
def rbac_default_sa_bound(binding: Resource, ctx) -> Iterator[Failure]:
    graph = ctx.inventory.rbac
    if is_platform_binding(binding, graph):
        return
    for index, subject in enumerate(graph.subjects(binding)):
        if _default_account(subject):
            yield Failure(
                message=f"grants {graph.role_ref(binding) or 'a role'} to {subject}",
                path=f"subjects[{index}]",
                value=str(subject),
            )
