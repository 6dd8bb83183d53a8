"""Linux security modules: the Pod Security Standards baseline controls for AppArmor and SELinux.

Both are Linux-only: Windows pods are not evaluated (the API server rejects the fields there).
"""

from collections.abc import Iterator

from posture.scanning.checks.common import as_dict
from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.checks.workloads.security_context import runs_on_linux
from posture.scanning.inventory import Workload

# The annotation AppArmor was set with before the appArmorProfile field (Kubernetes 1.30).
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
# SELinux types the PSS baseline allows: the container runtime's own confined types.
ALLOWED_SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)


@register(
    id="apparmor-unconfined",
    title="AppArmor profile set to unconfined",
    category=Category.WORKLOAD,
    severity=Severity.MEDIUM,
    target=Target.WORKLOAD,
    applies=runs_on_linux,
    frameworks=Frameworks(pss="baseline", nsa=("Pod security: non-privileged containers",), mitre=("T1611",)),
    description="""
The container runtime confines every container with its default AppArmor profile, which denies
mounts, raw access to kernel interfaces and other escape routes. `appArmorProfile` of type
`Unconfined` (on the pod or a container), or the older annotation
`container.apparmor.security.beta.kubernetes.io/<container>: unconfined`, switches that off.
`RuntimeDefault` and `Localhost` profiles pass, as in the Pod Security Standards baseline.
""",
    remediation="""
Remove the override, or ask for the runtime's default profile explicitly:

```yaml
securityContext:
  appArmorProfile:
    type: RuntimeDefault
```
""",
)
def apparmor_unconfined(workload: Workload, _ctx) -> Iterator[Failure]:
    if _profile_type(workload.pod_security_context) == "Unconfined":
        yield Failure(
            message="pod runs without AppArmor confinement (appArmorProfile Unconfined)",
            path=f"{workload.pod_spec_path}.securityContext.appArmorProfile.type",
            value="Unconfined",
        )
    for container in workload.containers:
        if _profile_type(container.security_context) == "Unconfined":
            yield Failure(
                message=f"container {container.name} runs without AppArmor confinement",
                path=f"{container.path}.securityContext.appArmorProfile.type",
                value="Unconfined",
                container=container.name,
            )
    for key, value in workload.pod_template_annotations.items():
        if str(key).startswith(APPARMOR_ANNOTATION_PREFIX) and str(value).strip().lower() == "unconfined":
            container = str(key)[len(APPARMOR_ANNOTATION_PREFIX) :]
            yield Failure(
                message=f"container {container} runs without AppArmor confinement (annotation)",
                path=f"metadata.annotations.{key}",
                value=value,
                container=container,
            )


def _profile_type(security_context: dict):
    return as_dict(security_context.get("appArmorProfile")).get("type")


@register(
    id="selinux-custom-options",
    title="Custom SELinux type, user or role",
    category=Category.WORKLOAD,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    applies=runs_on_linux,
    frameworks=Frameworks(pss="baseline", nsa=("Pod security: non-privileged containers",), mitre=("T1611",)),
    description="""
SELinux confines containers with the runtime's `container_t` type. Setting another type lifts
that confinement: `spc_t` ("super privileged container") or `unconfined_t` are as good as
running privileged. Reported, as in the Pod Security Standards baseline: a `seLinuxOptions.type`
other than `container_t`, `container_init_t`, `container_kvm_t` or `container_engine_t`, or
any `user` or `role`, on the pod or a container. `level` (the MCS categories) is allowed.
""",
    remediation="""
Remove `type`, `user` and `role`; keep `level` if you need a fixed category:

```yaml
securityContext:
  seLinuxOptions:
    level: "s0:c123,c456"
```
""",
)
def selinux_custom_options(workload: Workload, _ctx) -> Iterator[Failure]:
    where = [(f"{workload.pod_spec_path}.securityContext", "pod", "", workload.pod_security_context)]
    where += [
        (f"{c.path}.securityContext", f"container {c.name}", c.name, c.security_context)
        for c in workload.containers
    ]
    for path, who, container, security_context in where:
        options = as_dict(security_context.get("seLinuxOptions"))
        selinux_type = options.get("type")
        if selinux_type is not None and str(selinux_type) not in ALLOWED_SELINUX_TYPES:
            yield Failure(
                message=f"{who} runs with SELinux type {selinux_type}",
                path=f"{path}.seLinuxOptions.type",
                value=selinux_type,
                container=container,
            )
        for field in ("user", "role"):
            if options.get(field) not in (None, ""):
                yield Failure(
                    message=f"{who} sets an SELinux {field} ({options[field]})",
                    path=f"{path}.seLinuxOptions.{field}",
                    value=options[field],
                    container=container,
                )
