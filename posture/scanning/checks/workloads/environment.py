"""Credentials in container environment variables.

Evidence never carries a credential: it names the variable and gives the
value's length only.
"""

from collections.abc import Iterator

from posture.scanning.checks.common import as_dict, redact
from posture.scanning.checks.options import option
from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.checks.sensitive import credential_shape, literal_worth_reporting, sensitive_name
from posture.scanning.inventory import Workload


@register(
    id="secret-in-env",
    title="Credential written into an environment variable",
    category=Category.SECRETS,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    frameworks=Frameworks(cis=("5.4.1",), nsa=("Secrets",), mitre=("T1552.001",)),
    description="""
A password, token or key written as a literal `value` in a pod template is stored in
plain text in the manifest, in Git, in the API server and in every tool that reads
workloads, and cannot be rotated without a redeploy. Reported: an environment variable whose
name says credential (password, secret, token, api key, private key...) with a literal value
that is not a file path or a `$(VAR)` reference, or any literal value shaped like a credential
(a PEM private key, an AWS access key id, a bearer token, a JWT, a URL with a password...).
The finding names the variable; the value is never copied.
""",
    remediation="""
Keep the credential in a Secret (synced from your secret manager) and mount it as a file:

```yaml
volumeMounts:
  - name: db
    mountPath: /var/run/secrets/db
    readOnly: true
volumes:
  - name: db
    secret:
      secretName: db-credentials
```
""",
)
def secret_in_env(workload: Workload, ctx) -> Iterator[Failure]:
    extra = tuple(str(word) for word in option(ctx, "extra_sensitive_env_names"))
    for container in workload.containers:
        for index, env in container.items("env"):
            if "value" not in env:
                continue
            name, value = str(env.get("name") or ""), env.get("value")
            shape = credential_shape(value)
            if shape is None and not (sensitive_name(name, extra) and literal_worth_reporting(value)):
                continue
            what = f"holds {shape}" if shape else "looks like a credential and has a literal value"
            yield Failure(
                message=f"container {container.name}: environment variable {name} {what}",
                path=f"{container.path}.env[{index}].value",
                value={"name": name, "value": redact(value)},
                container=container.name,
            )


@register(
    id="secret-ref-in-env",
    title="Secret exposed as environment variables",
    category=Category.SECRETS,
    severity=Severity.LOW,
    target=Target.WORKLOAD,
    frameworks=Frameworks(cis=("5.4.1",), nsa=("Secrets",), mitre=("T1552.007",)),
    description="""
A Secret consumed through `env[].valueFrom.secretKeyRef` or `envFrom[].secretRef` ends up in
the process environment: inherited by every child process, readable in /proc, often printed by
crash reporters and debug endpoints, and frozen until the pod restarts. Mounted as a file it is
none of these, and is updated in place when the Secret rotates.
""",
    remediation="""
Mount the Secret as a read-only volume and read the file:

```yaml
volumeMounts:
  - name: api-token
    mountPath: /var/run/secrets/api
    readOnly: true
volumes:
  - name: api-token
    secret:
      secretName: api-token
```
""",
)
def secret_ref_in_env(workload: Workload, _ctx) -> Iterator[Failure]:
    for container in workload.containers:
        for index, env in container.items("env"):
            ref = as_dict(as_dict(env.get("valueFrom")).get("secretKeyRef"))
            if ref:
                yield Failure(
                    message=f"container {container.name}: environment variable {env.get('name')} "
                    f"comes from Secret {ref.get('name')}",
                    path=f"{container.path}.env[{index}].valueFrom.secretKeyRef",
                    value={"secret": ref.get("name"), "key": ref.get("key")},
                    container=container.name,
                )
        for index, source in container.items("envFrom"):
            ref = as_dict(source.get("secretRef"))
            if ref:
                yield Failure(
                    message=f"container {container.name}: every key of Secret {ref.get('name')} "
                    "becomes an environment variable",
                    path=f"{container.path}.envFrom[{index}].secretRef",
                    value={"secret": ref.get("name")},
                    container=container.name,
                )
