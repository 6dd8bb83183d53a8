"""The check catalogue: each check registered once, with explicit metadata.

A check is a function that looks at one subject (a workload, a Service, a
Namespace... or the whole cluster) and yields a ``Failure`` for each problem.
Every subject it is called with counts as one evaluation, so the score knows
how many objects passed, not only which failed.
"""

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import MappingProxyType

from posture.scanning.inventory import POD_SPEC_PATHS


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse."""
        return _SEVERITY_RANK[self]

    @property
    def weight(self) -> int:
        """The score's weight (DESIGN.md): critical 10, high 5, medium 2, low 1."""
        return _SEVERITY_WEIGHT[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}
_SEVERITY_WEIGHT = {
    Severity.CRITICAL: 10,
    Severity.HIGH: 5,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class Category(enum.StrEnum):
    WORKLOAD = "workload"
    NETWORK = "network"
    RBAC = "rbac"
    SECRETS = "secrets"
    NAMESPACE = "namespace"
    CLUSTER = "cluster"

    @staticmethod
    def label_of(value: str) -> str:
        """How a category is written for people: "RBAC", not "Rbac"."""
        return "RBAC" if value == Category.RBAC else str(value).title()


class Target(enum.StrEnum):
    """What a check is called with; the engine asks the inventory for these."""

    WORKLOAD = "workload"  # a controller or bare Pod, through its pod template
    CLUSTER = "cluster"  # once per scan, with the inventory itself
    RESOURCES = "resources"  # each object of the check's ``kinds`` (workloads at their top-most owner)


class NotAssessed(Exception):
    """Raised by a cluster-level check that lacks the facts to decide (e.g. no server version).

    The engine then reports the check as not assessed instead of passed.
    """


class NotApplicable(Exception):
    """Raised by a check for a subject it does not judge, where only the rest of the inventory
    can tell (a Gateway whose implementation is unknown): the subject is not counted, as when
    the check's ``applies`` says no."""


@dataclass(slots=True)  # not frozen: a frozen dataclass is built 4x slower, and checks yield 60,000
class Failure:
    """One problem a check found on a subject. Treated as immutable."""

    message: str
    path: str = ""  # where in the object, e.g. spec.template.spec.containers[0].securityContext
    value: object = None  # the offending value (masked by the check when it is secret-like)
    container: str = ""


@dataclass(frozen=True)
class Frameworks:
    """References into the public frameworks a check maps to."""

    pss: str = ""  # Pod Security Standards level: "baseline" or "restricted"
    cis: tuple[str, ...] = ()  # CIS Kubernetes Benchmark section(s), e.g. "5.2.2"
    nsa: tuple[str, ...] = ()  # NSA/CISA Kubernetes Hardening Guide topic
    mitre: tuple[str, ...] = ()  # MITRE ATT&CK for containers technique ids

    def as_dict(self) -> dict:
        return {"pss": self.pss, "cis": list(self.cis), "nsa": list(self.nsa), "mitre": list(self.mitre)}


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    category: Category
    severity: Severity
    target: Target | str  # Target.WORKLOAD, Target.CLUSTER, or a resource kind ("Service")
    kinds: tuple[str, ...]  # resource kinds the check evaluates
    # Other kinds it reads to decide (NetworkPolicy, to judge a workload's
    # isolation). If one of these could not be read, the check is not assessed.
    requires: tuple[str, ...]
    frameworks: Frameworks
    description: str
    remediation: str
    evaluate: Callable = field(repr=False, compare=False)
    # Which subjects the check is about at all (e.g. probes: not Jobs). Subjects it
    # does not apply to are neither evaluated nor counted, so they do not dilute the score.
    applies: Callable | None = field(default=None, repr=False, compare=False)
    # An option the check cannot judge without (a list of trusted registries): while it is unset
    # the check does not run, as if switched off, rather than pass every workload.
    only_with_option: str | None = None


def _default_kinds(target: Target | str) -> tuple[str, ...]:
    if target == Target.WORKLOAD:
        return tuple(POD_SPEC_PATHS)
    if target in (Target.CLUSTER, Target.RESOURCES):
        return ()
    return (str(target),)


class DuplicateCheckError(ValueError):
    pass


class CheckRegistry:
    def __init__(self):
        self._checks: dict[str, Check] = {}

    def register(
        self,
        *,
        id: str,  # noqa: A002 - the check id is the catalogue's own vocabulary
        title: str,
        category: Category,
        severity: Severity,
        target: Target | str,
        description: str,
        remediation: str,
        frameworks: Frameworks | None = None,
        kinds: Iterable[str] | None = None,
        requires: Iterable[str] | None = None,
        applies: Callable | None = None,
        only_with_option: str | None = None,
    ) -> Callable:
        def decorator(func: Callable) -> Callable:
            if id in self._checks:
                raise DuplicateCheckError(f"check id {id!r} is registered twice")
            check_kinds = tuple(kinds) if kinds is not None else _default_kinds(target)
            if target == Target.RESOURCES and not check_kinds:
                raise ValueError(f"check {id!r} targets resources but names no kinds")
            self._checks[id] = Check(
                id=id,
                title=title,
                category=category,
                severity=severity,
                target=target,
                kinds=check_kinds,
                requires=tuple(requires or ()),
                frameworks=frameworks or Frameworks(),
                description=description.strip(),
                remediation=remediation.strip(),
                evaluate=func,
                applies=applies,
                only_with_option=only_with_option,
            )
            return func

        return decorator

    def get(self, check_id: str) -> Check:
        return self._checks[check_id]

    def __contains__(self, check_id: str) -> bool:
        return check_id in self._checks

    def __iter__(self):
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def as_mapping(self) -> MappingProxyType:
        return MappingProxyType(self._checks)


registry = CheckRegistry()
register = registry.register
