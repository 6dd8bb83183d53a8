"""docs/checks.md, generated from the registry so that it cannot drift from the code.

``python manage.py checks_doc`` writes it; a test fails when the committed file
is stale. Prose that is not per check (how Kubernetes' own RBAC is recognised,
where other tools disagree) lives here, next to the generator, and names the
constants it describes instead of copying them.
"""

from posture.scanning.checks import load_catalogue
from posture.scanning.checks.options import OPTIONS
from posture.scanning.checks.rbac.bindings import DEFAULT_AUTHENTICATED_ROLES, DEFAULT_PUBLIC_ROLES
from posture.scanning.checks.rbac.rules import (
    ADDON_MANAGER_LABEL,
    DEFAULT_USER_ROLES,
    PLATFORM_LABELS,
    PLATFORM_PREFIXES,
)
from posture.scanning.checks.registry import Category, Check, CheckRegistry, Target

FAMILY_TITLES = {
    Category.WORKLOAD: "Workloads",
    Category.SECRETS: "Secrets",
    Category.NETWORK: "Network",
    Category.RBAC: "RBAC",
    Category.NAMESPACE: "Namespaces",
    Category.CLUSTER: "Cluster",
}

INTRO = """\
# Rampart checks

Generated from the check registry by `python manage.py checks_doc`; edit the checks, not this
file (a test fails when it is stale).

Every check has a stable id (what findings, exemptions and settings refer to), a severity, the
kinds of objects it evaluates and the kinds it reads to decide (`requires`: when one of those
could not be read, the check is reported *not assessed* instead of passing), references into the
frameworks Rampart maps to, and a remediation. Each failure names the object, the path inside it
and the offending value, except for secret-like values: those are masked to their length, and
Rampart never copies a credential into its database, logs or output.

Frameworks: **PSS** Pod Security Standards level; **CIS** CIS Kubernetes Benchmark v1.9 section
numbers; **NSA** the NSA/CISA Kubernetes Hardening Guide topic; **MITRE** MITRE ATT&CK technique
ids (containers matrix).

An object is exempted from checks with annotations (counted and shown, never dropped):

```yaml
metadata:
  annotations:
    rampart.dev/ignore: "host-network,host-path"
    rampart.dev/ignore-reason: "the CNI agent programs the node's network"
```

A workload is evaluated through its top-most collected owner (a Pod through its ReplicaSet and
Deployment, a Job through its CronJob), so it is reported once.

YAML manifests and snapshots are read as Kubernetes reads them (go-yaml v2 under kubectl and the
API server), not as YAML 1.1 or 1.2 alone: `privileged: y`, `yes` or `on` is true, `0777` and
`0o777` are octal, `1e3` is a number, `1:20` is a string, and timestamps stay the text they are.
So a check judges the object the cluster would run.
"""


def _rbac_recognition() -> str:
    prefixes = ", ".join(f"`{p}`" for p in PLATFORM_PREFIXES)
    labels = ", ".join(f"`{k}: {v}`" for k, v in PLATFORM_LABELS.items())
    defaults = ", ".join(f"`{name}`" for name in sorted(DEFAULT_USER_ROLES))
    public = ", ".join(f"`{name}`" for name in sorted(DEFAULT_PUBLIC_ROLES))
    authenticated = ", ".join(f"`{name}`" for name in sorted(DEFAULT_AUTHENTICATED_ROLES))
    return f"""\
## How Kubernetes' own RBAC is recognised

A cluster holds dozens of roles and bindings that Kubernetes (and the managed platform) need
and that nobody can or should change. Reporting them would bury the findings that matter, so:

- A Role, ClusterRole, RoleBinding or ClusterRoleBinding is **platform-owned** when its name
  starts with a reserved prefix ({prefixes}: `system:` is reserved by Kubernetes, the others are
  what EKS, GKE and kubeadm name their own objects), when it carries the label {labels} (the
  API server's bootstrap policy), or the `{ADDON_MANAGER_LABEL}` label of managed add-ons.
  Platform-owned objects are not reported, and neither are the controllers' identities they bind
  (`system:serviceaccount:kube-system:*` through `system:controller:*` bindings, `system:nodes`,
  `system:kube-scheduler`...).
- The user-facing default ClusterRoles ({defaults}) are Kubernetes' own too. They are never
  reported as roles; a binding that grants one of them is judged by what the role grants, and
  reported on the binding (the role cannot be changed, the binding can). When a scan did not
  collect them (manifests), their rules come from `DEFAULT_CLUSTER_ROLES` in
  `posture/scanning/checks/rbac/rules.py`.
- Dangerous permissions written in a **custom** role are reported on that role, bound or not (an
  unbound role is one binding away from being used), with the subjects holding it in the
  message. A custom role bound only by platform-owned bindings serves the platform and is not
  reported.
- Some grants are never exempt, whatever the names involved: a binding to `system:anonymous` or
  `system:unauthenticated` (other than Kubernetes' own {public}), to `system:authenticated` (other
  than {authenticated}), and any binding or `aws-auth` mapping to `system:masters` (other than the
  bootstrap binding).

Limitation: names are conventions, not guarantees. Whoever can create RBAC objects can name a
binding `system:anything`; that power is itself reported (`rbac-bind-escalate`, `rbac-wildcard`,
`cluster-admin-binding`), and `rbac-anonymous-access` and `rbac-system-masters` ignore names.
"""


DISAGREEMENTS = """\
## Where tools disagree

`tests/scanning/test_corpus_agreement.py` scans the labelled fixtures of Polaris, kube-score and
kubescape's regolibrary (in `../shared/corpus`) and compares Rampart's verdict with each label.
It asserts at least 95% agreement overall and at least 80% per concept. Where tools mean
different things, Rampart chose on security grounds; every remaining disagreement is one of these.

- **no-network-policy**: Rampart passes a workload that any NetworkPolicy (or Cilium policy)
  selects, in either direction. Polaris fails a matching policy unless it has both ingress *and*
  egress rules, and kube-score warns when a matching policy covers only one direction. Rampart
  judges directions where they matter: `namespace-no-default-deny` requires both, and a policy
  with `policyTypes: [Ingress, Egress]` and no egress rules is a stricter policy (deny all
  egress), not a weaker one as Polaris counts it.
- **image-pull-policy-not-always**: judged as written, with Polaris and kubescape: an unset
  policy fails. kube-score accepts it for `:latest` or untagged images, because the API server
  then defaults it to `Always`; that default changes silently the day the tag is pinned.
- **no-cpu-request / no-memory-request**: a container with a limit but no request fails (with
  kube-score and kubescape), although the API server copies the limit into each Pod's request:
  it does not do so for the template, and the request should be a decision.
- **capabilities-not-dropped**: dropping every capability of the runtime default set by name
  passes, as Polaris accepts; it leaves the same empty set as `ALL`. Pod Security admission in
  `restricted` mode still wants the literal `ALL`, which the remediation uses.
- **privileged-container**: adding `SYS_ADMIN` or `ALL` counts as privileged (with kubescape;
  Polaris and kube-score only look at `privileged: true`). `dangerous-capabilities` reports it too.
- **no-seccomp**: the `seccomp.security.alpha.kubernetes.io` annotations are not counted;
  supported Kubernetes versions ignore them (kube-score accepts them, even the PodSecurityPolicy
  `defaultProfileName` annotation on a pod).
- **automount-sa-token**: every mounted token is reported. kubescape's `serviceaccount-token-mount`
  only fails when the ServiceAccount has RBAC bindings; Rampart does not wait for a permission to
  be granted, since the token also authenticates the pod elsewhere (cloud workload identity,
  webhooks) and any later grant lands in every pod. Each namespace's `default` ServiceAccount is
  evaluated too (CIS 5.1.5), like kubescape's `automount-default-service-account`.
- **secret-in-env**: Rampart reports a sensitive *name* with a literal value, or a value with the
  *shape* of a credential. kubescape also fails values that merely contain words such as `key` or
  `JWT` (`my_key_value`), which Rampart does not; and it counts a whole Secret poured into the
  environment (`envFrom.secretRef`) as a credential in env vars, which Rampart reports as
  `secret-ref-in-env` (the agreement test maps that kubescape check to both Rampart checks).
- **default-namespace**: objects with no namespace in a manifest are not reported; where they land
  is decided when they are applied (kubescape assumes `default`).
- **deprecated-api-version**: judged against the Kubernetes releases supported today. kube-score
  judges against a target version given on its command line (1.18, and once 1.4, in its fixtures),
  so it passes `batch/v1beta1` CronJobs and `apps/v1beta1` StatefulSets that no supported release
  serves.
- **rbac-wildcard**: `resources: ["*"]` in any API group is reported (CIS 5.1.3). Polaris's
  `rolebindingClusterAdminRole` only fails when apiGroups, resources and verbs are all `*`, and so
  passes `apiGroups: [""]`, `resources: ["*"]`, `verbs: ["*"]`: every core resource, Secrets
  included, which Rampart also reports as `cluster-admin-binding` (with kubescape).
- **rbac-pod-exec**: `get` on `pods/exec` counts (with Polaris: exec over WebSocket was authorised
  with `get` until Kubernetes 1.30). Polaris also fails a binding whose role does not exist;
  Rampart does not call that an exec grant.
- **rbac-portforward, rbac-pod-exec, rbac-nodes-proxy**: a subresource wildcard counts only in
  the form the RBAC authorizer knows, `*/portforward`. kubescape also reads `pods/*` as every
  pod subresource; the authorizer matches it only against a subresource literally named `*`, so
  it grants nothing. That kubescape fixture is listed in the agreement test as a label that
  contradicts Kubernetes, reported but not asserted.
- **Where RBAC findings land**: kubescape reports subjects, Polaris reports roles and bindings
  separately. Rampart reports a custom role (naming who holds it) or, for a default role, the
  binding that grants it; an input fails a concept the same way in every case.
- **service-exposed-externally** (not asserted): the corpus concept means "a workload reachable
  from outside by any route" (Ingress, Gateway API, Istio, NodePort, LoadBalancer). Rampart's check
  of that name is narrower by design: a LoadBalancer open to any source. Ingresses and Gateways
  are the intended way in: `ingress-no-tls` judges both (a Gateway's HTTP listeners and the routes
  they carry), `ingress-no-rate-limit` the Ingresses and the Gateways of the implementations whose
  rate limits it reads, `ingress-no-waf` the Ingresses; NodePorts are `service-nodeport`'s,
  datastores `database-exposed`'s, dashboards, notebooks and model servers
  `sensitive-interface-exposed`'s.
- **sensitive-interface-exposed**: recognised by the image that runs, not by the workload's name.
  kubescape's `exposed-sensitive-interfaces` matches names from a list, and so would report a web
  server merely called `kubernetes-dashboard`; it also waits for a LoadBalancer to be given an
  address, where Rampart reports the Service as declared (a LoadBalancer still pending usually
  has a node port open on every node already). Both agree on every labelled input of the corpus.
"""


def _frameworks(check: Check) -> str:
    refs = check.frameworks
    parts = []
    if refs.pss:
        parts.append(f"PSS {refs.pss}")
    if refs.cis:
        parts.append("CIS " + ", ".join(refs.cis))
    if refs.nsa:
        parts.append("NSA/CISA: " + "; ".join(refs.nsa))
    if refs.mitre:
        parts.append("MITRE ATT&CK " + ", ".join(refs.mitre))
    return " · ".join(parts) or "none"


def _target(check: Check) -> str:
    if check.target == Target.WORKLOAD:
        return "each workload (through its pod template)"
    if check.target == Target.CLUSTER:
        return "the cluster, once per scan"
    return "each " + ", ".join(check.kinds)


def _check_section(check: Check) -> str:
    lines = [
        f'<a id="{check.id}"></a>',
        "",
        f"### `{check.id}`: {check.title}",
        "",
        f"- **Severity**: {check.severity} · **Category**: {check.category}",
        f"- **Evaluates**: {_target(check)}",
    ]
    if check.target == Target.WORKLOAD:
        lines.append(f"- **Kinds**: {', '.join(check.kinds)}")
    if check.requires:
        lines.append(f"- **Requires**: {', '.join(check.requires)}")
    if check.only_with_option:
        lines.append(f"- **Runs only when** the option `{check.only_with_option}` is set")
    lines += [
        f"- **Frameworks**: {_frameworks(check)}",
        "",
        check.description,
        "",
        "**Remediation**",
        "",
        check.remediation,
        "",
    ]
    return "\n".join(lines)


def _options() -> str:
    lines = [
        "## Options",
        "",
        "Set for every cluster in `RAMPART_CHECK_SETTINGS` (`options`), and per cluster under "
        "“Check settings” on its settings page or as `check_settings.options` in the API, with "
        "severity overrides and checks switched off; for `scan_manifests`, in the file given with "
        "`--settings` (README). Defaults in `posture/scanning/checks/options.py`.",
        "",
        "| option | default | meaning |",
        "|---|---|---|",
    ]
    for spec in OPTIONS.values():
        default = ", ".join(map(str, spec.default)) if isinstance(spec.default, tuple) else spec.default
        lines.append(f"| `{spec.name}` | {default if default != '' else '(none)'} | {spec.description} |")
    return "\n".join(lines) + "\n"


def _contents(checks: list[Check]) -> str:
    lines = ["## Contents", "", "| id | title | severity | category |", "|---|---|---|---|"]
    for check in checks:
        lines.append(f"| [`{check.id}`](#{check.id}) | {check.title} | {check.severity} | {check.category} |")
    return "\n".join(lines) + "\n"


def render_markdown(catalogue: CheckRegistry | None = None) -> str:
    catalogue = catalogue or load_catalogue()
    order = list(FAMILY_TITLES)
    checks = sorted(catalogue, key=lambda c: (order.index(c.category), c.id))
    sections = [INTRO, _contents(checks), _options(), _rbac_recognition(), DISAGREEMENTS]
    for category, title in FAMILY_TITLES.items():
        family = [c for c in checks if c.category == category]
        if family:
            sections.append(f"## {title} checks\n")
            sections.extend(_check_section(c) for c in family)
    return "\n".join(sections).rstrip() + "\n"
