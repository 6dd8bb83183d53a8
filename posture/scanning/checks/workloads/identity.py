"""The identity a pod runs with: its ServiceAccount and that account's token."""

from collections.abc import Iterator

from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.inventory import POD_SPEC_PATHS, Resource, Workload


def _pods_or_default_account(subject: Resource) -> bool:
    return subject.kind != "ServiceAccount" or subject.name == "default"


@register(
    id="automount-sa-token",
    title="Service account token mounted",
    category=Category.WORKLOAD,
    severity=Severity.MEDIUM,
    target=Target.RESOURCES,
    kinds=(*POD_SPEC_PATHS, "ServiceAccount"),
    applies=_pods_or_default_account,
    requires=("ServiceAccount",),
    frameworks=Frameworks(
        cis=("5.1.5", "5.1.6"), nsa=("Authentication and authorization",), mitre=("T1528",)
    ),
    description="""
Unless told otherwise, Kubernetes mounts an API token for the pod's ServiceAccount into every
container. Code execution in the container then means API access with that account's rights.
Most applications never call the Kubernetes API. For a workload, the pod's
`automountServiceAccountToken` decides; when the pod leaves it unset, its ServiceAccount's
setting does; when both are unset the token is mounted. Each namespace's `default`
ServiceAccount is evaluated too (CIS 5.1.5): unless it disables automounting, every pod that
forgets to name an account gets a token.
""",
    remediation="""
Turn it off on the pod (or on its ServiceAccount) unless the application calls the API, and
on every namespace's default account:

```yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
automountServiceAccountToken: false
```
""",
)
def automount_sa_token(subject: Resource, ctx) -> Iterator[Failure]:
    if not isinstance(subject, Workload):
        if subject.raw.get("automountServiceAccountToken") is not False:
            yield Failure(
                message=f"the default ServiceAccount of namespace {subject.namespace or '(none)'} "
                "does not disable token automounting",
                path="automountServiceAccountToken",
                value=subject.raw.get("automountServiceAccountToken"),
            )
        return
    workload = subject
    pod_setting = workload.pod_spec.get("automountServiceAccountToken")
    if pod_setting is False:
        return
    account = workload.service_account_name
    if pod_setting is None:
        sa = ctx.inventory.get("ServiceAccount", workload.namespace, account)
        if sa is not None and sa.raw.get("automountServiceAccountToken") is False:
            return
        message = (
            f"the token of ServiceAccount {account} is mounted (neither the pod nor the account disables it)"
        )
    else:
        message = f"the pod asks for the token of ServiceAccount {account} to be mounted"
    yield Failure(
        message=message,
        path=f"{workload.pod_spec_path}.automountServiceAccountToken",
        value=pod_setting,
    )


@register(
    id="default-service-account",
    title="Runs as the default service account",
    category=Category.WORKLOAD,
    severity=Severity.LOW,
    target=Target.WORKLOAD,
    frameworks=Frameworks(cis=("5.1.5",), nsa=("Authentication and authorization",), mitre=("T1078.001",)),
    description="""
Every pod without `serviceAccountName` runs as its namespace's `default` ServiceAccount, shared
by everything else that did not choose. Any permission granted to it (by anyone, for any one
application) is granted to all of them, and audit logs cannot tell them apart.
""",
    remediation="""
Give each application its own ServiceAccount, with only the rights it needs:

```yaml
spec:
  serviceAccountName: checkout
  automountServiceAccountToken: false
```
""",
)
def default_service_account(workload: Workload, _ctx) -> Iterator[Failure]:
    if workload.service_account_name == "default":
        yield Failure(
            message="pod runs as the namespace's default ServiceAccount",
            path=f"{workload.pod_spec_path}.serviceAccountName",
            value=workload.pod_spec.get("serviceAccountName") or workload.pod_spec.get("serviceAccount"),
        )
