"""Pod and container security: the blueprint's security-context checks.

Each check sees a workload through its pod template, so a Deployment is
reported once, not once per ReplicaSet and Pod.
"""

from collections.abc import Iterator

from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.inventory import Container, Workload


def _effective(workload: Workload, container: Container, key: str):
    """A container's securityContext setting, falling back to the pod's."""
    value = container.security_context.get(key)
    if value is None:
        value = workload.pod_security_context.get(key)
    return value


@register(
    id="privileged-container",
    title="Privileged container",
    category=Category.WORKLOAD,
    severity=Severity.CRITICAL,
    target=Target.WORKLOAD,
    frameworks=Frameworks(pss="baseline", cis=("5.2.2",), nsa=("Pod security: non-privileged containers",),
                          mitre=("T1611",)),
    description="""
A privileged container has every capability and all host devices: escaping to the node
is a matter of mounting its disk. Nothing that runs an application needs it.
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


@register(
    id="run-as-root",
    title="Container may run as root",
    category=Category.WORKLOAD,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    frameworks=Frameworks(pss="restricted", cis=("5.2.6",), nsa=("Pod security: non-root containers",),
                          mitre=("T1611",)),
    description="""
Without `runAsNonRoot: true` (or a non-zero `runAsUser`) the container runs as whatever user
its image names, usually root. A root process that breaks out of the container is root on the node.
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
        user = _effective(workload, container, "runAsUser")
        if user == 0:
            yield Failure(
                message=f"container {container.name} runs as UID 0",
                path=f"{container.path}.securityContext.runAsUser",
                value=0,
                container=container.name,
            )
            continue
        if isinstance(user, int) and user > 0:
            continue
        if _effective(workload, container, "runAsNonRoot") is not True:
            yield Failure(
                message=f"container {container.name} may run as root: neither runAsNonRoot nor a non-zero runAsUser",
                path=f"{container.path}.securityContext.runAsNonRoot",
                value=_effective(workload, container, "runAsNonRoot"),
                container=container.name,
            )


@register(
    id="no-readonly-rootfs",
    title="Root filesystem is writable",
    category=Category.WORKLOAD,
    severity=Severity.MEDIUM,
    target=Target.WORKLOAD,
    frameworks=Frameworks(nsa=("Pod security: immutable container filesystems",), mitre=("T1059",)),
    description="""
A writable root filesystem lets an attacker who gets code execution drop tools and modify
binaries. Applications should write only to mounted volumes.
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
    id="allow-privilege-escalation",
    title="Privilege escalation allowed",
    category=Category.WORKLOAD,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    frameworks=Frameworks(pss="restricted", cis=("5.2.5",), nsa=("Pod security: non-root containers",),
                          mitre=("T1548",)),
    description="""
Unless `allowPrivilegeEscalation` is false, a process can gain more privileges than its parent
(setuid binaries, file capabilities). The default is to allow it.
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
