"""Calico's own network policies: which pods they select, and whether they deny by default.

Calico's NetworkPolicy (namespaced) and GlobalNetworkPolicy select pods with an expression
language of their own (``role == 'db' && has(tier)``), not a LabelSelector. The inventory keeps
them apart from Kubernetes NetworkPolicies (``NetworkPolicy.projectcalico.org``); this module
reads their selectors the way Calico documents them. Policies for host endpoints (``preDNAT``,
``doNotTrack``) and selections by ServiceAccount labels are not read, and select nothing here.
"""

import re
from collections.abc import Callable, Iterator

from posture.scanning.checks.common import as_dict, as_list
from posture.scanning.inventory import Resource, Workload

# Calico's projectcalico.org/v3 API (snapshots, manifests) and the CRDs it stores them in.
NAMESPACED_KINDS = ("NetworkPolicy.projectcalico.org", "NetworkPolicy.crd.projectcalico.org")
GLOBAL_KIND = "GlobalNetworkPolicy"
# Labels Calico gives every workload endpoint, which selectors may use.
NAMESPACE_LABEL = "projectcalico.org/namespace"
ORCHESTRATOR_LABEL = "projectcalico.org/orchestrator"
SERVICE_ACCOUNT_LABEL = "projectcalico.org/serviceaccount"
NAMESPACE_NAME_LABEL = "projectcalico.org/name"  # given to namespaces, for namespaceSelector

Labels = dict[str, str]
Matcher = Callable[[Labels], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||==|!=|[!(){},])|(?P<string>'[^']*'|\"[^\"]*\")|(?P<word>[A-Za-z0-9_./-]+))"
)


class _Unreadable(ValueError):
    pass


class _PodLabelAsked(Exception):
    """A selector asked about a pod's own label where only namespace-wide facts were given."""


def parse_selector(text) -> Matcher | None:
    """A Calico selector as a function of an endpoint's labels; None when it cannot be read."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return lambda labels: True  # an empty selector selects every endpoint, as all() does
    if not isinstance(text, str):
        return None
    try:
        tokens = _tokens(text)
        matcher, rest = _or(tokens)
    except (_Unreadable, IndexError, RecursionError):  # RecursionError: "!!!!..." or "((((..." a mile deep
        return None
    return matcher if not rest else None


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _Unreadable(text)
        tokens.append(match.group("op") or match.group("string") or match.group("word"))
        position = match.end()
    return tokens


def _or(tokens: list[str]) -> tuple[Matcher, list[str]]:
    return _chain(tokens, "||", _and, any)


def _and(tokens: list[str]) -> tuple[Matcher, list[str]]:
    return _chain(tokens, "&&", _unary, all)


def _chain(tokens: list[str], operator: str, operand_of, combine) -> tuple[Matcher, list[str]]:
    # A chain of && or || is one flat list of operands, not nested calls: a selector a thousand
    # terms long must not exhaust the stack when it is evaluated.
    first, tokens = operand_of(tokens)
    operands = [first]
    while tokens and tokens[0] == operator:
        operand, tokens = operand_of(tokens[1:])
        operands.append(operand)
    if len(operands) == 1:
        return first, tokens
    return (lambda labels: combine(operand(labels) for operand in operands)), tokens


def _unary(tokens: list[str]) -> tuple[Matcher, list[str]]:
    if tokens[0] == "!":
        inner, rest = _unary(tokens[1:])
        return (lambda labels: not inner(labels)), rest
    return _primary(tokens)


def _string(token: str) -> str:
    if len(token) < 2 or token[0] not in "'\"" or token[-1] != token[0]:
        raise _Unreadable(token)
    return token[1:-1]


def _primary(tokens: list[str]) -> tuple[Matcher, list[str]]:
    head = tokens[0]
    if head == "(":
        inner, rest = _or(tokens[1:])
        if not rest or rest[0] != ")":
            raise _Unreadable("unclosed parenthesis")
        return inner, rest[1:]
    if head in ("all", "global") and tokens[1:3] == ["(", ")"]:
        return (lambda labels: True), tokens[3:]
    if head == "has" and tokens[1] == "(" and tokens[3] == ")":
        key = tokens[2]
        return (lambda labels: key in labels), tokens[4:]
    key, operator = head, tokens[1]
    if operator in ("==", "!="):
        value = _string(tokens[2])
        if operator == "==":
            return (lambda labels: labels.get(key) == value), tokens[3:]
        return (lambda labels: labels.get(key) != value), tokens[3:]
    negated = operator == "not"
    if negated:
        tokens = [tokens[0], *tokens[2:]]
        operator = tokens[1]
    if operator == "in":
        values, rest = _set(tokens[2:])
        if negated:
            return (lambda labels: labels.get(key) not in values), rest
        return (lambda labels: labels.get(key) in values), rest
    if operator in ("contains", "starts", "ends") and not negated:
        if operator != "contains":
            if tokens[2] != "with":
                raise _Unreadable(operator)
            tokens = [tokens[0], tokens[1], *tokens[3:]]
        text = _string(tokens[2])
        test = {
            "contains": lambda value: text in value,
            "starts": lambda value: value.startswith(text),
            "ends": lambda value: value.endswith(text),
        }[operator]
        return (lambda labels: key in labels and test(labels[key])), tokens[3:]
    raise _Unreadable(operator)


def _set(tokens: list[str]) -> tuple[frozenset[str], list[str]]:
    if tokens[0] != "{":
        raise _Unreadable("a set must open with {")
    values, tokens = [], tokens[1:]
    while tokens[0] != "}":
        values.append(_string(tokens[0]))
        tokens = tokens[1:]
        if tokens[0] == ",":
            tokens = tokens[1:]
    return frozenset(values), tokens[1:]


# --- which pods a policy selects -------------------------------------------------------------


def _for_pods(policy: Resource) -> bool:
    spec = policy.spec
    return not (spec.get("preDNAT") or spec.get("doNotTrack") or spec.get("serviceAccountSelector"))


def _endpoint_labels(workload: Workload) -> Labels:
    return {
        **{str(k): str(v) for k, v in workload.pod_template_labels.items()},
        NAMESPACE_LABEL: workload.namespace,
        ORCHESTRATOR_LABEL: "k8s",
        SERVICE_ACCOUNT_LABEL: workload.service_account_name,
    }


def _namespace_labels(inventory, namespace: str) -> Labels:
    found = inventory.get("Namespace", "", namespace)
    labels = {str(k): str(v) for k, v in (found.labels if found is not None else {}).items()}
    return {**labels, NAMESPACE_NAME_LABEL: namespace}


def _applies_in(policy: Resource, inventory, namespace: str) -> bool:
    """Whether a policy may select pods of ``namespace`` (its own, or a global one's selectors)."""
    if policy.kind != GLOBAL_KIND:
        return policy.namespace == namespace
    chooser = policy.spec.get("namespaceSelector")
    if chooser is None or (isinstance(chooser, str) and not chooser.strip()):
        return True
    matcher = parse_selector(chooser)
    return matcher is not None and matcher(_namespace_labels(inventory, namespace))


def policies_for(inventory, namespace: str) -> Iterator[Resource]:
    """The Calico policies for pods that may apply in ``namespace``."""
    for kind in NAMESPACED_KINDS:
        yield from (p for p in inventory.in_namespace(kind, namespace) if _for_pods(p))
    for policy in inventory.of_kind(GLOBAL_KIND):
        if _for_pods(policy) and _applies_in(policy, inventory, namespace):
            yield policy


def selects(workload: Workload, inventory) -> bool:
    """Whether some Calico policy selects the workload's pods."""
    labels = _endpoint_labels(workload)
    for policy in policies_for(inventory, workload.namespace):
        matcher = parse_selector(policy.spec.get("selector"))
        if matcher is not None and matcher(labels):
            return True
    return False


class _NamespaceFacts(dict):
    """What holds for every pod of a namespace: asking for anything else is not answerable."""

    def get(self, key, default=None):
        if key in self:
            return super().get(key)
        raise _PodLabelAsked(key)

    def __contains__(self, key) -> bool:
        if super().__contains__(key):
            return True
        raise _PodLabelAsked(key)


def selects_every_pod(policy: Resource, namespace: str) -> bool:
    """Whether the policy's selector holds for every pod of ``namespace``: it must not depend on
    a pod's own labels (``all()``, or only the namespace Calico gives each endpoint)."""
    matcher = parse_selector(policy.spec.get("selector"))
    if matcher is None:
        return False
    facts = _NamespaceFacts({NAMESPACE_LABEL: namespace, ORCHESTRATOR_LABEL: "k8s"})
    try:
        return matcher(facts)
    except _PodLabelAsked:
        return False


def policy_types(spec: dict) -> set[str]:
    declared = spec.get("types")
    if isinstance(declared, list) and declared:
        return {str(t) for t in declared}
    return {"Ingress", "Egress"} if as_list(spec.get("egress")) else {"Ingress"}


def denied_directions(policy: Resource) -> set[str]:
    """The directions the policy closes: it covers them and allows nothing there (no rules, or
    only Deny and Log rules)."""
    spec = policy.spec
    denied = set()
    for direction, key in (("Ingress", "ingress"), ("Egress", "egress")):
        if direction not in policy_types(spec):
            continue
        actions = {str(as_dict(rule).get("action", "")) for rule in as_list(spec.get(key))}
        if actions <= {"Deny", "Log"}:
            denied.add(direction)
    return denied
