"""The control plane's own settings, read from the flags of its static pods.

Where the cluster runs its control plane itself (kubeadm and most self-managed
installers), the API server, etcd, controller manager and scheduler are static pods
whose mirror Pods in kube-system carry their command lines: the CIS Kubernetes
Benchmark's sections 1 and 2 can be judged from them without touching a node. On a
managed control plane (EKS, GKE, AKS...) those pods do not exist and these checks
evaluate nothing. An etcd or scheduler given a configuration file is not judged either: the
file, which Rampart cannot read, may say what the flags do not.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from posture.scanning.checks.registry import Category, Failure, Frameworks, NotApplicable, Severity, register
from posture.scanning.inventory import Container, Workload

CONTROL_PLANE_NAMESPACE = "kube-system"
API_SERVER, ETCD = "kube-apiserver", "etcd"
CONTROLLER_MANAGER, SCHEDULER = "kube-controller-manager", "kube-scheduler"
COMPONENTS = frozenset({API_SERVER, ETCD, CONTROLLER_MANAGER, SCHEDULER})
# Flags that take no value: Go's flag parsing reads `--profiling false` as `--profiling`
# followed by an argument, so only `--flag=false` turns one off.
BOOLEAN_FLAGS = frozenset(
    {"profiling", "client-cert-auth", "auto-tls", "use-service-account-credentials", "anonymous-auth"}
)


@dataclass(frozen=True)
class Component:
    name: str  # kube-apiserver, etcd...
    container: Container
    flags: dict[str, str]  # name (without --) -> value as given, "true" for a bare boolean


def components(pod: Workload, wanted: frozenset[str] = COMPONENTS) -> list[Component]:
    """The control-plane components a kube-system pod runs, each with its parsed flags."""
    found = []
    for container in pod.containers:
        command = [item for item in container.spec.get("command") or () if isinstance(item, str)]
        args = [item for item in container.spec.get("args") or () if isinstance(item, str)]
        executable = command[0].rsplit("/", 1)[-1] if command else container.name
        if executable in wanted:
            found.append(Component(executable, container, parse_flags([*command[1:], *args])))
    return found


def parse_flags(tokens: list[str]) -> dict[str, str]:
    """``--name=value``, ``--name value`` and bare booleans (one dash too, as etcd's Go flag
    package allows); the last of a repeated flag wins."""
    flags: dict[str, str] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        name = token.lstrip("-")
        if not token.startswith("-") or not name:
            continue
        name, equals, value = name.partition("=")
        if not equals:
            if name not in BOOLEAN_FLAGS and index < len(tokens) and not tokens[index].startswith("-"):
                value, index = tokens[index], index + 1
            else:
                value = "true"
        flags[name] = value
    return flags


def _listed(value: str | None) -> set[str]:
    return {item.strip() for item in (value or "").split(",") if item.strip()}


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "t")


# A rule: (the component, what is wrong given its flags or None, the CIS section).
Rule = tuple[str, Callable[[dict[str, str]], str | None], str]


def _always_allow(flags: dict[str, str]) -> str | None:
    if "authorization-config" in flags:
        return None  # structured authorization (a file Rampart cannot read) replaces the mode
    modes = _listed(flags.get("authorization-mode")) or {"AlwaysAllow"}  # the API server's default
    if "AlwaysAllow" in modes:
        return "authorizes every request (--authorization-mode AlwaysAllow, its default)"
    return None


def _no_rbac(flags: dict[str, str]) -> str | None:
    modes = _listed(flags.get("authorization-mode"))
    if "authorization-config" in flags or not modes or "AlwaysAllow" in modes or "RBAC" in modes:
        return None  # decided elsewhere, or by AlwaysAllow, which is reported on its own
    return f"does not authorize with RBAC (--authorization-mode={','.join(sorted(modes))})"


def _always_admit(flags: dict[str, str]) -> str | None:
    if "AlwaysAdmit" in _listed(flags.get("enable-admission-plugins")):
        return "admits every request (the AlwaysAdmit admission plugin)"
    return None


def _static_tokens(flags: dict[str, str]) -> str | None:
    if flags.get("token-auth-file"):
        return "accepts static tokens from a file (--token-auth-file): they never expire"
    return None


def _no_client_certificates(flags: dict[str, str]) -> str | None:
    if _is_true(flags.get("client-cert-auth")):
        return None
    return "serves clients without checking their certificates (--client-cert-auth is not true)"


def _auto_tls(flags: dict[str, str]) -> str | None:
    if _is_true(flags.get("auto-tls")):
        return "serves with certificates it made itself (--auto-tls=true)"
    return None


OPEN_ACCESS_RULES: tuple[Rule, ...] = (
    (API_SERVER, _static_tokens, "1.2.2"),
    (API_SERVER, _always_allow, "1.2.6"),
    (API_SERVER, _no_rbac, "1.2.8"),
    (API_SERVER, _always_admit, "1.2.10"),
    (ETCD, _no_client_certificates, "2.2"),
    (ETCD, _auto_tls, "2.3"),
)


# Components that read a configuration file when given one: their flags then tell only part of
# the story (the file may turn profiling off, or client certificates on), so they are not judged.
CONFIG_FILE_FLAGS = {ETCD: "config-file", SCHEDULER: "config"}


def _failures(pod: Workload, rules: tuple[Rule, ...]) -> Iterator[Failure]:
    for component in components(pod, frozenset(rule[0] for rule in rules)):
        if CONFIG_FILE_FLAGS.get(component.name) in component.flags:
            raise NotApplicable
        for name, problem, section in rules:
            if name != component.name:
                continue
            message = problem(component.flags)
            if message:
                yield Failure(
                    message=f"{component.name} {message} (CIS {section})",
                    path=f"{component.container.path}.command",
                    value={"component": component.name, "cis": section},
                    container=component.container.name,
                )


def _runs(*names: str) -> Callable[[Workload], bool]:
    """Whether a pod is one of the control plane's, running one of these components."""
    wanted = frozenset(names)

    def applies(pod: Workload) -> bool:
        return pod.namespace == CONTROL_PLANE_NAMESPACE and bool(components(pod, wanted))

    return applies


@register(
    id="control-plane-open-access",
    title="Control plane lets requests through unchecked",
    category=Category.CLUSTER,
    severity=Severity.CRITICAL,
    target="Pod",
    applies=_runs(API_SERVER, ETCD),
    frameworks=Frameworks(
        cis=("1.2.2", "1.2.6", "1.2.8", "1.2.10", "2.2", "2.3"),
        nsa=("Authentication and authorization",),
        mitre=("T1078",),
    ),
    description="""
Read from the flags of the control plane's static pods in kube-system. Reported: an API server
that authorizes every request (`--authorization-mode` `AlwaysAllow`, which is its default when the
flag is missing) or without RBAC, that admits every request (`AlwaysAdmit`), or that accepts
static tokens from a file (`--token-auth-file`: they never expire and cannot be revoked without a
restart); an etcd that serves clients without checking their certificates (`--client-cert-auth`
not true) or with certificates it made itself (`--auto-tls`): whoever reaches etcd reads every
Secret. An API server given a structured `--authorization-config` is not judged on its mode, nor an
etcd given a `--config-file`. Managed control planes (EKS, GKE, AKS...) run no such pods:
nothing is evaluated there.
""",
    remediation="""
In the static pod manifests on the control-plane nodes (/etc/kubernetes/manifests):

```yaml
# kube-apiserver.yaml
- --authorization-mode=Node,RBAC
- --enable-admission-plugins=NodeRestriction
# etcd.yaml
- --client-cert-auth=true
- --peer-client-cert-auth=true
```
""",
)
def control_plane_open_access(pod: Workload, _ctx) -> Iterator[Failure]:
    yield from _failures(pod, OPEN_ACCESS_RULES)


@register(
    id="secrets-not-encrypted-at-rest",
    title="Secrets stored unencrypted in etcd",
    category=Category.CLUSTER,
    severity=Severity.HIGH,
    target="Pod",
    applies=_runs(API_SERVER),
    frameworks=Frameworks(cis=("1.2.27",), nsa=("Secrets",), mitre=("T1552",)),
    description="""
Without an encryption configuration (`--encryption-provider-config`) the API server writes
Secrets to etcd as they are: every etcd backup, snapshot and disk holds every credential of
the cluster in plain text. Read from the API server's static pod in kube-system; managed
control planes encrypt (or offer to) on their side and are not evaluated. Whether the
configuration names a real provider for Secrets (not `identity` first) is in a file Rampart
cannot read.
""",
    remediation="""
Give the API server an encryption configuration (a KMS provider where available):

```yaml
# /etc/kubernetes/enc/encryption.yaml, passed as --encryption-provider-config
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys: [{name: key1, secret: <32 random bytes, base64>}]
      - identity: {}
```
Then rewrite existing Secrets: `kubectl get secrets -A -o json | kubectl replace -f -`.
""",
)
def secrets_not_encrypted_at_rest(pod: Workload, _ctx) -> Iterator[Failure]:
    yield from _failures(pod, ((API_SERVER, _no_encryption, "1.2.27"),))


def _no_encryption(flags: dict[str, str]) -> str | None:
    if flags.get("encryption-provider-config"):
        return None
    return "writes Secrets to etcd unencrypted (no --encryption-provider-config)"


def _no_audit(flags: dict[str, str]) -> str | None:
    if flags.get("audit-log-path") or flags.get("audit-webhook-config-file"):
        return None
    return "keeps no audit log (neither --audit-log-path nor --audit-webhook-config-file)"


@register(
    id="api-server-no-audit-log",
    title="API server keeps no audit log",
    category=Category.CLUSTER,
    severity=Severity.MEDIUM,
    target="Pod",
    applies=_runs(API_SERVER),
    frameworks=Frameworks(cis=("1.2.16",), nsa=("Audit logging and threat detection",), mitre=("T1562.008",)),
    description="""
Without an audit log nobody can say afterwards who read which Secret, who exec'd into which
pod or who bound cluster-admin: an intrusion leaves no trace in the cluster. Read from the API
server's static pod in kube-system (`--audit-log-path` or `--audit-webhook-config-file`, with a
policy); managed control planes configure auditing on their side and are not evaluated.
""",
    remediation="""
```yaml
# kube-apiserver.yaml
- --audit-policy-file=/etc/kubernetes/audit/policy.yaml
- --audit-log-path=/var/log/kubernetes/audit.log
- --audit-log-maxage=30
- --audit-log-maxbackup=10
- --audit-log-maxsize=100
```
""",
)
def api_server_no_audit_log(pod: Workload, _ctx) -> Iterator[Failure]:
    yield from _failures(pod, ((API_SERVER, _no_audit, "1.2.16"),))


def _profiling(flags: dict[str, str]) -> str | None:
    if flags.get("profiling", "true").strip().lower() == "false":
        return None
    return "serves profiling data (--profiling is not false; it is on by default)"


def _node_restriction(flags: dict[str, str]) -> str | None:
    if "NodeRestriction" in _listed(flags.get("enable-admission-plugins")):
        return None
    return "lets each kubelet change any node and pod (no NodeRestriction admission plugin)"


def _kubelet_authority(flags: dict[str, str]) -> str | None:
    if flags.get("kubelet-certificate-authority"):
        return None
    return "does not verify kubelets' serving certificates (no --kubelet-certificate-authority)"


def _service_account_credentials(flags: dict[str, str]) -> str | None:
    if _is_true(flags.get("use-service-account-credentials")):
        return None
    return (
        "runs every controller with its own broad credentials (--use-service-account-credentials is not true)"
    )


def _local_only(flags: dict[str, str]) -> str | None:
    address = flags.get("bind-address", "0.0.0.0")  # noqa: S104 - the component's default, judged here
    if address in ("127.0.0.1", "::1", "localhost"):
        return None
    return f"serves its API on every interface (--bind-address={address})"


HARDENING_RULES: tuple[Rule, ...] = (
    (API_SERVER, _profiling, "1.2.15"),
    (API_SERVER, _node_restriction, "1.2.14"),
    (API_SERVER, _kubelet_authority, "1.2.5"),
    (CONTROLLER_MANAGER, _profiling, "1.3.2"),
    (CONTROLLER_MANAGER, _service_account_credentials, "1.3.3"),
    (CONTROLLER_MANAGER, _local_only, "1.3.7"),
    (SCHEDULER, _profiling, "1.4.1"),
    (SCHEDULER, _local_only, "1.4.2"),
)


@register(
    id="control-plane-not-hardened",
    title="Control plane component not hardened",
    category=Category.CLUSTER,
    severity=Severity.LOW,
    target="Pod",
    applies=_runs(API_SERVER, CONTROLLER_MANAGER, SCHEDULER),
    frameworks=Frameworks(
        cis=("1.2.5", "1.2.14", "1.2.15", "1.3.2", "1.3.3", "1.3.7", "1.4.1", "1.4.2"),
        nsa=("Authentication and authorization",),
    ),
    description="""
The CIS Benchmark's hardening of the API server, controller manager and scheduler, read from
the flags of their static pods in kube-system: profiling turned off (`--profiling=false`; it is
on by default and exposes runtime internals), the `NodeRestriction` admission plugin (so that a
kubelet can change only its own node and pods), kubelets' certificates verified
(`--kubelet-certificate-authority`), each controller running with its own service account
(`--use-service-account-credentials=true`), and the controller manager and scheduler listening
on the loopback address only. One finding per component, with every flag it is missing.
Managed control planes run no such pods: nothing is evaluated there; nor is a scheduler given a
`--config` file, which may set what its flags do not.
""",
    remediation="""
```yaml
# kube-apiserver.yaml
- --profiling=false
- --enable-admission-plugins=NodeRestriction
- --kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt
# kube-controller-manager.yaml
- --profiling=false
- --use-service-account-credentials=true
- --bind-address=127.0.0.1
# kube-scheduler.yaml
- --profiling=false
- --bind-address=127.0.0.1
```
""",
)
def control_plane_not_hardened(pod: Workload, _ctx) -> Iterator[Failure]:
    yield from _failures(pod, HARDENING_RULES)
