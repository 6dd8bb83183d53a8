"""Pod and container security context: the Pod Security Standards controls.

Each check sees a workload through its pod template, so a Deployment is
reported once, not once per ReplicaSet and Pod.
"""

from collections.abc import Iterator

from posture.scanning.checks.common import as_dict, as_list, effective
from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.inventory import Workload

# Capabilities the PSS baseline lets a container add: the runtime defaults minus NET_RAW.
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
# What containerd and Docker grant when a container asks for nothing (CRI-O grants a subset).
# Dropping every one of these leaves the same empty set as dropping ALL.
RUNTIME_DEFAULT_CAPABILITIES = BASELINE_CAPABILITIES | {"NET_RAW"}
# Capabilities that amount to running privileged.
PRIVILEGED_CAPABILITIES = frozenset({"ALL", "SYS_ADMIN"})

# Sysctls the PSS baseline considers namespaced and safe (Pod Security admission's list as of
# Kubernetes 1.32, which added tcp_rmem and tcp_wmem).
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    }
)


def runs_on_linux(workload: Workload) -> bool:
    """Not a Windows pod: there the API server forbids the Linux-only security fields."""
    return as_dict(workload.pod_spec.get("os")).get("name") != "windows"


def _capabilities(container, key: str) -> set[str]:
    caps = as_dict(container.security_context.get("capabilities")).get(key)
    return {str(cap).upper().removeprefix("CAP_") for cap in as_list(caps)}


@register(
    id="privileged-container",
    title="Privileged container",
    category=Category.WORKLOAD,
    severity=Severity.CRITICAL,
    target=Target.WORKLOAD,
    frameworks=Frameworks(
        pss="baseline", cis=("5.2.2",), nsa=("Pod security: non-privileged containers",), mitre=("T1611",)
    ),
    description="""
A privileged container has every capability and all host devices: escaping to the node
is a matter of mounting its disk. Nothing that runs an application needs it. Adding the
capability `SYS_ADMIN` (or `ALL`) is reported here too: it is privileged in all but name
(mounts, cgroups, namespaces), and the classic container escapes need nothing more.
""",
    remediation="""
Remove `privileged: true`; grant the one capability the process needs instead.

```yaml
securityContext:
  privileged: false
```
""",
)
def privileged_container(workload: Workload, _ctx) -> Iterator[Failure]:
    for container in workload.containers:
        if container.security_context.get("privileged") is True:
            yield Failure(
                message=f"container {container.name} runs privileged",
                path=f"{container.path}.securityContext.privileged",
                value=True,
                container=container.name,
            )
            continue
        effectively = sorted(_capabilities(container, "add") & PRIVILEGED_CAPABILITIES)
        if effectively:
            yield Failure(
                message=f"container {container.name} adds {'/'.join(effectively)}, as good as privileged",
                path=f"{container.path}.securityContext.capabilities.add",
                value=effectively,
                container=container.name,
            )


@register(
    id="allow-privilege-escalation",
    title="Privilege escalation allowed",
    category=Category.WORKLOAD,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    applies=runs_on_linux,
    frameworks=Frameworks(
        pss="restricted", cis=("5.2.6",), nsa=("Pod security: non-root containers",), mitre=("T1548",)
    ),
    description="""
Unless `allowPrivilegeEscalation` is false, a process can gain more privileges than its parent
(setuid binaries, file capabilities). The default is to allow it. Windows pods
(`spec.os.name: windows`) are not evaluated: the field does not exist there.
""",
    remediation="""
```yaml
securityContext:
  allowPrivilegeEscalation: false
```
""",
)
def allow_privilege_escalation(workload: Workload, _ctx) -> Iterator[Failure]:
    for container in workload.containers:
        value = container.security_context.get("allowPrivilegeEscalation")
        if value is not False:
            yield Failure(
                message=f"container {container.name} does not set allowPrivilegeEscalation: false",
                path=f"{container.path}.securityContext.allowPrivilegeEscalation",
                value=value,
                container=container.name,
            )


@register(
    id="run-as-root",
    title="Container may run as root",
    category=Category.WORKLOAD,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    frameworks=Frameworks(
        pss="restricted", cis=("5.2.7",), nsa=("Pod security: non-root containers",), mitre=("T1611",)
    ),
    description="""
Without `runAsNonRoot: true` (or a non-zero `runAsUser`) the container runs as whatever user
its image names, usually root. A root process that breaks out of the container is root on the node.
An explicit `runAsUser: 0` or `runAsNonRoot: false` on the container overrides a safe pod-level setting.
""",
    remediation="""
Run as an unprivileged user, at pod or container level:

```yaml
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
```
""",
)
def run_as_root(workload: Workload, _ctx) -> Iterator[Failure]:
    for container in workload.containers:
        user = effective(workload, container, "runAsUser")
        if user == 0:
            yield Failure(
                message=f"container {container.name} runs as UID 0",
                path=f"{container.path}.securityContext.runAsUser",
                value=0,
                container=container.name,
            )
            continue
        if isinstance(user, int) and not isinstance(user, bool) and user > 0:
            continue
        non_root = effective(workload, container, "runAsNonRoot")
        if non_root is not True:
            yield Failure(
                message=f"container {container.name} may run as root (no runAsNonRoot or runAsUser > 0)",
                path=f"{container.path}.securityContext.runAsNonRoot",
                value=non_root,
                container=container.name,
            )


@register(
    id="no-readonly-rootfs",
    title="Root filesystem is writable",
    category=Category.WORKLOAD,
    severity=Severity.MEDIUM,
    target=Target.WORKLOAD,
    applies=runs_on_linux,
    frameworks=Frameworks(
        cis=("5.7.3",), nsa=("Pod security: immutable container filesystems",), mitre=("T1059",)
    ),
    description="""
A writable root filesystem lets an attacker who gets code execution drop tools and modify
binaries. Applications should write only to mounted volumes. Windows pods
(`spec.os.name: windows`) are not evaluated: the API server rejects the field for them.
""",
    remediation="""
Make the root filesystem read-only and mount an `emptyDir` where the application writes:

```yaml
securityContext:
  readOnlyRootFilesystem: true
volumeMounts:
  - name: tmp
    mountPath: /tmp
```
""",
)
def no_readonly_rootfs(workload: Workload, _ctx) -> Iterator[Failure]:
    for container in workload.containers:
        value = container.security_context.get("readOnlyRootFilesystem")
        if value is not True:
            yield Failure(
                message=f"container {container.name} has a writable root filesystem",
                path=f"{container.path}.securityContext.readOnlyRootFilesystem",
                value=value,
                container=container.name,
            )


@register(
    id="dangerous-capabilities",
    title="Container adds capabilities beyond the baseline",
    category=Category.WORKLOAD,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    frameworks=Frameworks(
        pss="baseline", cis=("5.2.9",), nsa=("Pod security: non-privileged containers",), mitre=("T1611",)
    ),
    description="""
Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE or ALL give a container
powers over the kernel and the node's network that are one step from a container escape.
Reported: any added capability outside the Pod Security Standards baseline set (AUDIT_WRITE,
CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP,
SETUID, SYS_CHROOT). Names are compared case-insensitively, with or without the `CAP_` prefix.
""",
    remediation="""
Add only what the process needs, and nothing outside the baseline set:

```yaml
securityContext:
  capabilities:
    drop: ["ALL"]
    add: ["NET_BIND_SERVICE"]
```
""",
)
def dangerous_capabilities(workload: Workload, _ctx) -> Iterator[Failure]:
    for container in workload.containers:
        extra = sorted(_capabilities(container, "add") - BASELINE_CAPABILITIES)
        if extra:
            yield Failure(
                message=f"container {container.name} adds {', '.join(extra)}",
                path=f"{container.path}.securityContext.capabilities.add",
                value=extra,
                container=container.name,
            )


@register(
    id="capabilities-not-dropped",
    title="Container keeps its default capabilities",
    category=Category.WORKLOAD,
    severity=Severity.MEDIUM,
    target=Target.WORKLOAD,
    applies=runs_on_linux,
    frameworks=Frameworks(
        pss="restricted",
        cis=("5.2.8", "5.2.10"),
        nsa=("Pod security: non-privileged containers",),
        mitre=("T1611",),
    ),
    description="""
Container runtimes hand every container a default set of capabilities (NET_RAW for spoofed
packets, CHOWN, DAC_OVERRIDE, SETUID...). Few applications need any. Passes when `drop`
contains `ALL`, or names every capability of the runtime default set (the same empty
result; Pod Security admission in `restricted` mode still insists on the literal `ALL`).
Windows pods (`spec.os.name: windows`) are not evaluated: they have no Linux capabilities.
""",
    remediation="""
```yaml
securityContext:
  capabilities:
    drop: ["ALL"]
```
""",
)
def capabilities_not_dropped(workload: Workload, _ctx) -> Iterator[Failure]:
    for container in workload.containers:
        dropped = _capabilities(container, "drop")
        if "ALL" in dropped or dropped >= RUNTIME_DEFAULT_CAPABILITIES:
            continue
        yield Failure(
            message=f"container {container.name} does not drop ALL capabilities",
            path=f"{container.path}.securityContext.capabilities.drop",
            value=sorted(dropped) or None,
            container=container.name,
        )


def _seccomp_type(profile) -> str | None:
    if isinstance(profile, dict) and isinstance(profile.get("type"), str):
        return profile["type"]
    return None


@register(
    id="no-seccomp",
    title="No seccomp profile",
    category=Category.WORKLOAD,
    severity=Severity.MEDIUM,
    target=Target.WORKLOAD,
    applies=runs_on_linux,
    frameworks=Frameworks(pss="restricted", cis=("5.7.2",), nsa=("Pod security: seccomp",), mitre=("T1611",)),
    description="""
Without a seccomp profile every system call is open to the container, including the rarely
used ones most kernel exploits go through. `RuntimeDefault` blocks them at no cost to
ordinary applications. Passes when each container's effective profile (its own, else the
pod's) is `RuntimeDefault` or `Localhost`; `Unconfined` or no profile fails. The old
`seccomp.security.alpha.kubernetes.io` annotations are not counted: supported Kubernetes
versions ignore them. Windows pods (`spec.os.name: windows`) are not evaluated: seccomp is
Linux-only.
""",
    remediation="""
```yaml
spec:
  securityContext:
    seccompProfile:
      type: RuntimeDefault
```
""",
)
def no_seccomp(workload: Workload, _ctx) -> Iterator[Failure]:
    pod_type = _seccomp_type(workload.pod_security_context.get("seccompProfile"))
    for container in workload.containers:
        own = _seccomp_type(container.security_context.get("seccompProfile"))
        kind = own or pod_type
        if kind in ("RuntimeDefault", "Localhost"):
            continue
        if own is not None or pod_type is None:
            path = f"{container.path}.securityContext.seccompProfile"
        else:
            path = f"{workload.pod_spec_path}.securityContext.seccompProfile"
        yield Failure(
            message=f"container {container.name} runs without a seccomp profile"
            + (" (Unconfined)" if kind == "Unconfined" else ""),
            path=path,
            value=kind,
            container=container.name,
        )


@register(
    id="unmasked-proc-mount",
    title="Unmasked /proc",
    category=Category.WORKLOAD,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    frameworks=Frameworks(pss="baseline", nsa=("Pod security: non-privileged containers",), mitre=("T1611",)),
    description="""
`procMount: Unmasked` exposes the host kernel's /proc paths that the runtime normally masks
(kcore, sysrq-trigger, timer lists): information leaks and a lever for escapes.
""",
    remediation="""
Remove `procMount`, or set it to `Default`:

```yaml
securityContext:
  procMount: Default
```
""",
)
def unmasked_proc_mount(workload: Workload, _ctx) -> Iterator[Failure]:
    for container in workload.containers:
        value = container.security_context.get("procMount")
        if value is not None and value != "Default":
            yield Failure(
                message=f"container {container.name} sets procMount: {value}",
                path=f"{container.path}.securityContext.procMount",
                value=value,
                container=container.name,
            )


@register(
    id="unsafe-sysctls",
    title="Unsafe sysctls",
    category=Category.WORKLOAD,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    frameworks=Frameworks(pss="baseline", nsa=("Pod security: non-privileged containers",), mitre=("T1611",)),
    description="""
Sysctls outside the safe, namespaced set can change kernel behaviour for every pod on the
node. Reported: any pod sysctl not in the Pod Security Standards baseline list
(kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_unprivileged_port_start,
net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, net.ipv4.ip_local_reserved_ports, the
tcp keepalive/fin timeout settings and, since Kubernetes 1.32, tcp_rmem and tcp_wmem).
""",
    remediation="""
Remove the sysctl, or tune it on the node if the whole node needs it:

```yaml
spec:
  securityContext:
    sysctls:
      - name: net.ipv4.ip_local_port_range
        value: "1024 65535"
```
""",
)
def unsafe_sysctls(workload: Workload, _ctx) -> Iterator[Failure]:
    sysctls = workload.pod_security_context.get("sysctls")
    for index, sysctl in enumerate(as_list(sysctls)):
        name = sysctl.get("name") if isinstance(sysctl, dict) else None
        if isinstance(name, str) and name not in SAFE_SYSCTLS:
            yield Failure(
                message=f"pod sets unsafe sysctl {name}",
                path=f"{workload.pod_spec_path}.securityContext.sysctls[{index}].name",
                value=name,
            )


@register(
    id="windows-host-process",
    title="Windows HostProcess container",
    category=Category.WORKLOAD,
    severity=Severity.CRITICAL,
    target=Target.WORKLOAD,
    frameworks=Frameworks(
        pss="baseline", cis=("5.2.11",), nsa=("Pod security: non-privileged containers",), mitre=("T1611",)
    ),
    description="""
A Windows HostProcess container runs directly on the node as a host process, with the
node's network and file system: the Windows equivalent of a privileged container.
""",
    remediation="""
Remove `hostProcess: true` (and `hostNetwork: true` that it requires):

```yaml
securityContext:
  windowsOptions:
    hostProcess: false
```
""",
)
def windows_host_process(workload: Workload, _ctx) -> Iterator[Failure]:
    pod_level = as_dict(workload.pod_security_context.get("windowsOptions")).get("hostProcess")
    if pod_level is True:
        yield Failure(
            message="pod runs as a Windows HostProcess",
            path=f"{workload.pod_spec_path}.securityContext.windowsOptions.hostProcess",
            value=True,
        )
    for container in workload.containers:
        if as_dict(container.security_context.get("windowsOptions")).get("hostProcess") is True:
            yield Failure(
                message=f"container {container.name} runs as a Windows HostProcess",
                path=f"{container.path}.securityContext.windowsOptions.hostProcess",
                value=True,
                container=container.name,
            )
