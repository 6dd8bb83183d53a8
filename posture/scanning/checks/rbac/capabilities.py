"""Dangerous permissions: reported where they are fixed.

A permission written in a custom Role or ClusterRole is reported on that role
(narrow its rules), with the subjects that hold it in the message, bound or not:
an unbound role is one binding away from being used. A permission that comes
from a Kubernetes default role (``edit``, ``admin``, ``cluster-admin``, a
``system:`` role) cannot be fixed in the role, so it is reported on the
non-platform binding that grants it. Platform-owned roles and bindings are
recognised as described in ``rules.py``.
"""

from collections.abc import Callable, Iterator

from posture.scanning.checks.rbac.rules import (
    Grant,
    Rule,
    is_platform_binding,
    is_platform_role,
    ref_grants,
    role_grants,
)
from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.inventory import Resource

ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
GRANT_KINDS = (*ROLE_KINDS, *BINDING_KINDS)
CORE = ("",)


def _holders(graph, bindings: list[Resource]) -> str:
    subjects = sorted({str(s) for binding in bindings for s in graph.subjects(binding)})
    if not subjects:
        return "not bound to anyone yet"
    shown = ", ".join(subjects[:5]) + (f" and {len(subjects) - 5} more" if len(subjects) > 5 else "")
    return f"held by {shown}"


def grant_failures(
    subject: Resource, ctx, matches: Callable[[Rule], bool], what: str, *, own_rules_only: bool = False
) -> Iterator[Failure]:
    graph = ctx.inventory.rbac
    if subject.kind in ROLE_KINDS:
        if is_platform_role(subject):
            return
        bindings = graph.bindings_of(subject)
        if bindings and all(is_platform_binding(b, graph) for b in bindings):
            return  # a role only the platform binds serves the platform
        hits = [g for g in role_grants(graph, subject, own_only=own_rules_only) if matches(g.rule)]
        if hits:
            yield _failure(f"{subject.kind} {subject.name} {what} ({_holders(graph, bindings)})", hits[0])
        return
    if is_platform_binding(subject, graph):
        return
    ref = graph.role_ref(subject)
    if ref is None:
        return
    role = graph.role(ref)
    if role is not None and not is_platform_role(role):
        return  # a custom role: reported on the role itself
    grants = ref_grants(graph, ref)
    hits = [g for g in grants or () if matches(g.rule)]
    if hits:
        subjects = ", ".join(str(s) for s in graph.subjects(subject)) or "no subjects"
        yield Failure(
            message=f"binds {ref}, which {what}, to {subjects}",
            path="roleRef.name",
            value={"roleRef": ref.name, "rule": hits[0].rule.raw, "from": hits[0].role},
        )


def _failure(message: str, grant: Grant) -> Failure:
    return Failure(message=message, path=grant.path, value=grant.rule.raw)


def grant_check(**metadata):
    """Register a check of what roles grant: it evaluates roles and bindings, and is not assessed
    when any of the four kinds could not be read (a grant may come through any of them)."""
    return register(
        category=Category.RBAC, target=Target.RESOURCES, kinds=GRANT_KINDS, requires=GRANT_KINDS, **metadata
    )


_ROLE_REMEDIATION_TAIL = """
If the permission comes from a Kubernetes default role (`edit`, `admin`, `cluster-admin`), bind a
narrower custom role instead of the default one.
"""


@grant_check(
    id="rbac-wildcard",
    title="Role grants every resource through a wildcard",
    severity=Severity.HIGH,
    frameworks=Frameworks(cis=("5.1.3",), nsa=("Authentication and authorization",), mitre=("T1078",)),
    description="""
`resources: ["*"]` grants every resource type of the listed API groups, Secrets included, and
every type added later (each new CRD). Reported: a custom Role or ClusterRole with a rule whose
`resources` is `*`, and a binding that grants such a rule through a Kubernetes default or
`system:` role. A `*` only in `verbs` or `apiGroups` on named resources is not reported here:
its dangerous parts (bind, escalate, impersonate, exec, secrets) have their own checks.
""",
    remediation="""
List the resources and verbs the subject needs:

```yaml
rules:
  - apiGroups: ["apps"]
    resources: ["deployments"]
    verbs: ["get", "list", "watch", "patch"]
```
""",
)
def rbac_wildcard(subject: Resource, ctx) -> Iterator[Failure]:
    yield from grant_failures(
        subject,
        ctx,
        lambda rule: "*" in rule.resources,
        "grants every resource through a wildcard",
        own_rules_only=True,
    )


@grant_check(
    id="rbac-secrets-access",
    title="Role can read Secrets",
    severity=Severity.HIGH,
    frameworks=Frameworks(cis=("5.1.2",), nsa=("Authentication and authorization",), mitre=("T1552.007",)),
    description="""
`get`, `list` or `watch` on Secrets reads every credential in scope, including ServiceAccount
tokens of more privileged accounts: a direct path to escalation. Rules limited to named Secrets
(`resourceNames`) are the recommended least-privilege form and are not reported.
""",
    remediation="""
Grant access to the named Secrets the workload needs, or mount them instead of reading them
through the API:

```yaml
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    resourceNames: ["payments-api-token"]
    verbs: ["get"]
```
"""
    + _ROLE_REMEDIATION_TAIL,
)
def rbac_secrets_access(subject: Resource, ctx) -> Iterator[Failure]:
    yield from grant_failures(
        subject,
        ctx,
        lambda r: not r.names and r.grants(("get", "list", "watch"), CORE, ("secrets",)),
        "grants read access to Secrets",
    )


@grant_check(
    id="rbac-pod-exec",
    title="Role can exec or attach into pods",
    severity=Severity.HIGH,
    frameworks=Frameworks(nsa=("Authentication and authorization",), mitre=("T1609",)),
    description="""
`pods/exec` and `pods/attach` run commands inside any container in scope: its files, its
environment, its ServiceAccount token. Both `create` and `get` count: exec over WebSocket was
authorised with `get` until Kubernetes 1.30, and many clusters still accept it.
""",
    remediation="""
Remove `pods/exec` and `pods/attach` from everyday roles; grant them just-in-time to the people
on call, or debug with ephemeral containers under a dedicated role.

```yaml
rules:
  - apiGroups: [""]
    resources: ["pods", "pods/log"]
    verbs: ["get", "list"]
```
"""
    + _ROLE_REMEDIATION_TAIL,
)
def rbac_pod_exec(subject: Resource, ctx) -> Iterator[Failure]:
    yield from grant_failures(
        subject,
        ctx,
        lambda r: r.grants(("create", "get"), CORE, ("pods/exec", "pods/attach")),
        "grants exec/attach into pods",
    )


_WORKLOAD_RESOURCES = (
    ("", ("pods",), ("create",)),
    ("", ("replicationcontrollers",), ("create", "update", "patch")),
    ("apps", ("deployments", "daemonsets", "statefulsets", "replicasets"), ("create", "update", "patch")),
    ("batch", ("jobs", "cronjobs"), ("create", "update", "patch")),
)


def _creates_pods(rule: Rule) -> bool:
    return any(rule.grants(verbs, (group,), resources) for group, resources, verbs in _WORKLOAD_RESOURCES)


@grant_check(
    id="rbac-create-pods",
    title="Role can create pods",
    severity=Severity.MEDIUM,
    frameworks=Frameworks(cis=("5.1.4",), nsa=("Authentication and authorization",), mitre=("T1610",)),
    description="""
Whoever can create a pod in a namespace can run it as any ServiceAccount there, mount any
Secret there, and (without Pod Security admission) run it privileged on a node. Creating
or changing a controller's pod template is the same power: reported are `create` on pods, and
`create`, `update` or `patch` on Deployments, DaemonSets, StatefulSets, ReplicaSets,
ReplicationControllers, Jobs and CronJobs.
""",
    remediation="""
Leave deployment to a CD system whose own identity is reviewed, give people read access, and
enforce a Pod Security level on the namespace:

```yaml
rules:
  - apiGroups: ["apps"]
    resources: ["deployments"]
    verbs: ["get", "list", "watch"]
```
"""
    + _ROLE_REMEDIATION_TAIL,
)
def rbac_create_pods(subject: Resource, ctx) -> Iterator[Failure]:
    yield from grant_failures(subject, ctx, _creates_pods, "grants creating pods or changing pod templates")


_RBAC_GROUP = ("rbac.authorization.k8s.io",)
_ROLES = ("roles", "clusterroles")
_POWERFUL_ROLES = frozenset({"cluster-admin", "admin", "edit"})


def _binds_or_escalates(rule: Rule) -> bool:
    if rule.grants(("escalate",), _RBAC_GROUP, _ROLES):
        return True
    if not rule.grants(("bind",), _RBAC_GROUP, _ROLES):
        return False
    return not rule.names or any(n in _POWERFUL_ROLES or n.startswith("system:") for n in rule.names)


@grant_check(
    id="rbac-bind-escalate",
    title="Role can bind or escalate roles",
    severity=Severity.HIGH,
    frameworks=Frameworks(cis=("5.1.8",), nsa=("Authentication and authorization",), mitre=("T1098.006",)),
    description="""
The `bind` and `escalate` verbs on roles switch off RBAC's own escalation check: whoever holds
them can grant themselves (or anyone) any permission, up to cluster-admin. `bind` restricted by
`resourceNames` to ordinary roles (the way to let a team hand out `view`) is not reported;
`bind` on `cluster-admin`, `admin`, `edit` or a `system:` role is, and so is `escalate`
whatever its names (it lets the holder rewrite the named role).
""",
    remediation="""
Remove `bind` and `escalate` (and `*` verbs) on roles and clusterroles:

```yaml
rules:
  - apiGroups: ["rbac.authorization.k8s.io"]
    resources: ["roles", "rolebindings"]
    verbs: ["get", "list", "watch"]
```
""",
)
def rbac_bind_escalate(subject: Resource, ctx) -> Iterator[Failure]:
    yield from grant_failures(subject, ctx, _binds_or_escalates, "grants bind/escalate on roles")


def _impersonates(rule: Rule) -> bool:
    if not rule.grants(
        ("impersonate",),
        ("", "authentication.k8s.io"),
        ("users", "groups", "serviceaccounts", "uids", "userextras/*"),
    ):
        return False
    return not rule.names or any(name.startswith("system:") for name in rule.names)


@grant_check(
    id="rbac-impersonate",
    title="Role can impersonate users, groups or service accounts",
    severity=Severity.HIGH,
    frameworks=Frameworks(cis=("5.1.8",), nsa=("Authentication and authorization",), mitre=("T1078",)),
    description="""
`impersonate` lets a subject act as another user, group or ServiceAccount, with all of that
identity's rights (impersonating the group `system:masters` is cluster-admin). The default `edit`
role can impersonate ServiceAccounts in its namespace. A rule restricted by `resourceNames` is
reported only when it names a `system:` identity.
""",
    remediation="""
Remove `impersonate`; where an operator really needs it, restrict it with `resourceNames`:

```yaml
rules:
  - apiGroups: [""]
    resources: ["serviceaccounts"]
    resourceNames: ["report-runner"]
    verbs: ["impersonate"]
```
"""
    + _ROLE_REMEDIATION_TAIL,
)
def rbac_impersonate(subject: Resource, ctx) -> Iterator[Failure]:
    yield from grant_failures(subject, ctx, _impersonates, "grants impersonation")


@grant_check(
    id="rbac-portforward",
    title="Role can port-forward into pods",
    severity=Severity.MEDIUM,
    frameworks=Frameworks(nsa=("Authentication and authorization",), mitre=("T1090",)),
    description="""
`pods/portforward` opens a tunnel from the caller's machine to any port of any pod in scope,
past NetworkPolicies and the Ingress: databases and admin ports included.
""",
    remediation="""
Remove `pods/portforward` from everyday roles and grant it just-in-time:

```yaml
rules:
  - apiGroups: [""]
    resources: ["pods"]
    verbs: ["get", "list"]
```
"""
    + _ROLE_REMEDIATION_TAIL,
)
def rbac_portforward(subject: Resource, ctx) -> Iterator[Failure]:
    yield from grant_failures(
        subject,
        ctx,
        lambda r: r.grants(("create", "get"), CORE, ("pods/portforward",)),
        "grants port-forwarding into pods",
    )


@grant_check(
    id="rbac-nodes-proxy",
    title="Role can reach the kubelet through nodes/proxy",
    severity=Severity.HIGH,
    frameworks=Frameworks(cis=("5.1.10",), nsa=("Authentication and authorization",), mitre=("T1609",)),
    description="""
`nodes/proxy` forwards requests to the kubelet API of any node: running commands in any pod on
it, without the API server's exec authorisation or audit trail. Any verb but `list` and `watch`
counts (the kubelet maps GET to `get`, POST to `create`).
""",
    remediation="""
Grant `nodes/metrics` or `nodes/stats` for monitoring instead:

```yaml
rules:
  - apiGroups: [""]
    resources: ["nodes/metrics", "nodes/stats"]
    verbs: ["get"]
```
""",
)
def rbac_nodes_proxy(subject: Resource, ctx) -> Iterator[Failure]:
    yield from grant_failures(
        subject,
        ctx,
        lambda r: r.grants(("get", "create", "update", "patch", "delete"), CORE, ("nodes/proxy",)),
        "grants access to the kubelet API through nodes/proxy",
    )


# --- The other escalation paths of Kubernetes' RBAC good practices ------------------------------


@grant_check(
    id="rbac-token-request",
    title="Role can mint ServiceAccount tokens",
    severity=Severity.HIGH,
    frameworks=Frameworks(nsa=("Authentication and authorization",), mitre=("T1528",)),
    description="""
`create` on `serviceaccounts/token` (the TokenRequest API) issues a token for any ServiceAccount
in scope, and with it that account's rights: a subject can take on the most privileged
ServiceAccount of a namespace, or of the cluster. The default `edit` and `admin` roles grant it
within their namespace.
""",
    remediation="""
Let each workload receive its own projected token instead; grant token creation only for named
accounts where a tool needs it:

```yaml
rules:
  - apiGroups: [""]
    resources: ["serviceaccounts/token"]
    resourceNames: ["report-runner"]
    verbs: ["create"]
```
"""
    + _ROLE_REMEDIATION_TAIL,
)
def rbac_token_request(subject: Resource, ctx) -> Iterator[Failure]:
    yield from grant_failures(
        subject,
        ctx,
        lambda r: r.grants(("create",), CORE, ("serviceaccounts/token",)) and not r.names,
        "grants tokens for any ServiceAccount in its scope",
    )


ADMISSION_GROUP = ("admissionregistration.k8s.io",)
ADMISSION_RESOURCES = (
    "mutatingwebhookconfigurations",
    "validatingwebhookconfigurations",
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
    "mutatingadmissionpolicies",
    "mutatingadmissionpolicybindings",
)


@grant_check(
    id="rbac-admission-control",
    title="Role can change admission control",
    severity=Severity.HIGH,
    frameworks=Frameworks(nsa=("Authentication and authorization",), mitre=("T1562.001",)),
    description="""
Writing webhook configurations or admission policies changes what the API server lets in: a
mutating webhook sees, and may rewrite, every object created in the cluster (a pod gains a
privileged sidecar, a Secret is copied out), and deleting a validating one switches off the
policy engine (Kyverno, Gatekeeper) that guards the rest.
""",
    remediation="""
Leave admission configuration to the platform's own deployment pipeline; give people read access:

```yaml
rules:
  - apiGroups: ["admissionregistration.k8s.io"]
    resources: ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"]
    verbs: ["get", "list", "watch"]
```
""",
)
def rbac_admission_control(subject: Resource, ctx) -> Iterator[Failure]:
    yield from grant_failures(
        subject,
        ctx,
        lambda r: r.grants(("create", "update", "patch", "delete"), ADMISSION_GROUP, ADMISSION_RESOURCES),
        "grants changes to admission webhooks or policies",
    )


@grant_check(
    id="rbac-csr-approval",
    title="Role can approve certificate requests",
    severity=Severity.HIGH,
    frameworks=Frameworks(nsa=("Authentication and authorization",), mitre=("T1649",)),
    description="""
`approve` on a certificate `signers` lets a subject approve its own CertificateSigningRequests:
with the `kubernetes.io/kube-apiserver-client` signer that is a client certificate for any user
or group it names, `system:masters` included, valid until it expires and impossible to revoke.
""",
    remediation="""
Leave approval to the controllers that need it, restricted to their signer:

```yaml
rules:
  - apiGroups: ["certificates.k8s.io"]
    resources: ["signers"]
    resourceNames: ["example.com/my-signer"]
    verbs: ["approve"]
```
"""
    + _ROLE_REMEDIATION_TAIL,
)
def rbac_csr_approval(subject: Resource, ctx) -> Iterator[Failure]:
    yield from grant_failures(
        subject, ctx, _approves_client_certificates, "grants approving certificate requests"
    )


def _approves_client_certificates(rule: Rule) -> bool:
    if not rule.grants(("approve",), ("certificates.k8s.io",), ("signers",)):
        return False
    # A signer of one's own issues only what it is built to; Kubernetes' own signers are the risk.
    return not rule.names or any(name.startswith("kubernetes.io/") for name in rule.names)


@grant_check(
    id="rbac-persistent-volumes",
    title="Role can create PersistentVolumes",
    severity=Severity.MEDIUM,
    frameworks=Frameworks(nsa=("Authentication and authorization",), mitre=("T1611",)),
    description="""
A PersistentVolume may point at a `hostPath`: whoever can create one, and a claim and a pod to
mount it, reads and writes the node's filesystem, whatever Pod Security admission allows the
pod itself. Claims (`persistentvolumeclaims`) are what applications need; volumes are for the
storage platform.
""",
    remediation="""
Grant claims, and let a StorageClass provision the volumes:

```yaml
rules:
  - apiGroups: [""]
    resources: ["persistentvolumeclaims"]
    verbs: ["create", "get", "list", "delete"]
```
"""
    + _ROLE_REMEDIATION_TAIL,
)
def rbac_persistent_volumes(subject: Resource, ctx) -> Iterator[Failure]:
    yield from grant_failures(
        subject,
        ctx,
        lambda r: r.grants(("create",), CORE, ("persistentvolumes",)),
        "grants creating PersistentVolumes",
    )
