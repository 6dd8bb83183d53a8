"""Small helpers the check families share."""

from posture.scanning.checks.sensitive import parse_marker
from posture.scanning.inventory import Container, Workload


def effective(workload: Workload, container: Container, key: str):
    """A container's securityContext setting, falling back to the pod's (where the pod level has it)."""
    value = container.security_context.get(key)
    if value is None:
        value = workload.pod_security_context.get(key)
    return value


def redact(value) -> str:
    """What evidence shows instead of a secret: its length, never a character of it."""
    marker = parse_marker(value)  # already masked when the snapshot was stored
    if marker is not None:
        return f"<redacted, {marker[0]} chars>"
    text = value if isinstance(value, str) else str(value)
    return f"<redacted, {len(text)} chars>"


def as_list(value) -> list:
    return value if isinstance(value, list) else []


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def is_batch(workload: Workload) -> bool:
    # Run-to-completion pods: no probes, and a bare Pod that a Job would restart is not the point.
    if workload.kind in ("Job", "CronJob"):
        return True
    return workload.kind == "Pod" and workload.pod_spec.get("restartPolicy") in ("Never", "OnFailure")
