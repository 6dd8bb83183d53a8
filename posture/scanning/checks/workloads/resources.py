"""Resource requests and limits, and health probes: availability hygiene with a security edge.

A container without limits can starve its node (a denial of service, or a
cryptominer's free lunch); one without requests is scheduled blind.
"""

from collections.abc import Iterator

from posture.scanning.checks.common import as_dict, as_list, is_batch
from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.inventory import Container, Workload

_NO_DEFAULTS: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())


def _limit_range_defaults(inventory) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Per namespace, the resources a LimitRange fills in: (default limits, default requests)."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for limit_range in inventory.of_kind("LimitRange"):
        limits, requests = found.setdefault(limit_range.namespace, (set(), set()))
        for item in as_list(limit_range.spec.get("limits")):
            if isinstance(item, dict) and item.get("type", "Container") == "Container":
                # As SetDefaults_LimitRangeItem: a max is the default limit when none is
                # given, a default limit is the default request, and so is a min.
                limits.update(as_dict(item.get("default")), as_dict(item.get("max")))
                requests.update(
                    as_dict(item.get("defaultRequest")),
                    as_dict(item.get("default")),
                    as_dict(item.get("max")),
                    as_dict(item.get("min")),
                )
    return {ns: (frozenset(limits), frozenset(requests)) for ns, (limits, requests) in found.items()}


def _namespace_defaults(ctx, namespace: str) -> tuple[frozenset[str], frozenset[str]]:
    defaults = ctx.inventory.memo("limit-range-defaults", lambda: _limit_range_defaults(ctx.inventory))
    return defaults.get(namespace, _NO_DEFAULTS)


def _sized_containers(workload: Workload) -> Iterator[Container]:
    # Ephemeral (debug) containers cannot declare resources.
    return (c for c in workload.containers if c.field != "ephemeralContainers")


def _missing(workload: Workload, ctx, resource: str, kind: str) -> Iterator[Failure]:
    default_limits, default_requests = _namespace_defaults(ctx, workload.namespace)
    for container in _sized_containers(workload):
        resources = as_dict(container.spec.get("resources"))
        limits, requests = as_dict(resources.get("limits")), as_dict(resources.get("requests"))
        if kind == "limits":
            present = resource in limits or resource in default_limits
        else:
            present = resource in requests or resource in default_requests
        if not present:
            yield Failure(
                message=f"container {container.name} has no {resource} {kind[:-1]}",
                path=f"{container.path}.resources.{kind}.{resource}",
                value=None,
                container=container.name,
            )


_LIMIT_REMEDIATION = """
Set a limit (and a request) on every container, or a namespace `LimitRange` default:

```yaml
resources:
  requests:
    cpu: 100m
    memory: 128Mi
  limits:
    cpu: 500m
    memory: 256Mi
```
"""


@register(
    id="no-cpu-limit",
    title="No CPU limit",
    category=Category.WORKLOAD,
    severity=Severity.LOW,
    target=Target.WORKLOAD,
    requires=("LimitRange",),
    frameworks=Frameworks(nsa=("Pod security: resource policies",), mitre=("T1496",)),
    description="""
Without a CPU limit one container can use every core of its node: noisy neighbours,
or a compromised container mining on your bill. A LimitRange default in the namespace counts.
""",
    remediation=_LIMIT_REMEDIATION,
)
def no_cpu_limit(workload: Workload, ctx) -> Iterator[Failure]:
    yield from _missing(workload, ctx, "cpu", "limits")


@register(
    id="no-memory-limit",
    title="No memory limit",
    category=Category.WORKLOAD,
    severity=Severity.LOW,
    target=Target.WORKLOAD,
    requires=("LimitRange",),
    frameworks=Frameworks(nsa=("Pod security: resource policies",), mitre=("T1499",)),
    description="""
Without a memory limit one container can exhaust its node's memory and get other pods
evicted or OOM-killed. A LimitRange default in the namespace counts.
""",
    remediation=_LIMIT_REMEDIATION,
)
def no_memory_limit(workload: Workload, ctx) -> Iterator[Failure]:
    yield from _missing(workload, ctx, "memory", "limits")


@register(
    id="no-cpu-request",
    title="No CPU request",
    category=Category.WORKLOAD,
    severity=Severity.LOW,
    target=Target.WORKLOAD,
    requires=("LimitRange",),
    frameworks=Frameworks(nsa=("Pod security: resource policies",)),
    description="""
Without a CPU request the scheduler places the pod blind and it is first to be throttled
under contention. A LimitRange default counts. A limit alone does not: the API server copies
it into the request of each Pod it admits, but not into the template, and the request should
be a decision rather than an accident of the limit.
""",
    remediation=_LIMIT_REMEDIATION,
)
def no_cpu_request(workload: Workload, ctx) -> Iterator[Failure]:
    yield from _missing(workload, ctx, "cpu", "requests")


@register(
    id="no-memory-request",
    title="No memory request",
    category=Category.WORKLOAD,
    severity=Severity.LOW,
    target=Target.WORKLOAD,
    requires=("LimitRange",),
    frameworks=Frameworks(nsa=("Pod security: resource policies",)),
    description="""
Without a memory request the pod is scheduled as if it needed none and is among the first
evicted under memory pressure. A LimitRange default counts; a limit alone does not (see
no-cpu-request).
""",
    remediation=_LIMIT_REMEDIATION,
)
def no_memory_request(workload: Workload, ctx) -> Iterator[Failure]:
    yield from _missing(workload, ctx, "memory", "requests")


def _long_running(subject) -> bool:
    return not is_batch(subject)


def _missing_probe(workload: Workload, probe: str) -> Iterator[Failure]:
    for container in workload.containers:
        # Init and ephemeral containers cannot have these probes.
        if container.field == "containers" and not isinstance(container.spec.get(probe), dict):
            yield Failure(
                message=f"container {container.name} has no {probe}",
                path=f"{container.path}.{probe}",
                value=None,
                container=container.name,
            )


@register(
    id="no-liveness-probe",
    title="No liveness probe",
    category=Category.WORKLOAD,
    severity=Severity.LOW,
    target=Target.WORKLOAD,
    applies=_long_running,
    frameworks=Frameworks(),
    description="""
Without a liveness probe a hung process keeps its pod "running" forever. Jobs, CronJobs
and run-once Pods are not evaluated: they finish instead.
""",
    remediation="""
```yaml
livenessProbe:
  httpGet:
    path: /healthz
    port: 8080
  periodSeconds: 10
```
""",
)
def no_liveness_probe(workload: Workload, _ctx) -> Iterator[Failure]:
    yield from _missing_probe(workload, "livenessProbe")


@register(
    id="no-readiness-probe",
    title="No readiness probe",
    category=Category.WORKLOAD,
    severity=Severity.LOW,
    target=Target.WORKLOAD,
    applies=_long_running,
    frameworks=Frameworks(),
    description="""
Without a readiness probe a pod receives traffic before it can serve it, and keeps
receiving it while it cannot. Jobs, CronJobs and run-once Pods are not evaluated.
""",
    remediation="""
```yaml
readinessProbe:
  httpGet:
    path: /readyz
    port: 8080
  periodSeconds: 5
```
""",
)
def no_readiness_probe(workload: Workload, _ctx) -> Iterator[Failure]:
    yield from _missing_probe(workload, "readinessProbe")
