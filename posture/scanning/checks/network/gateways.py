"""The Gateway API: which HTTP and gRPC routes a Gateway's listeners carry.

A route is attached to a listener, as the Gateway API specification has it, when one of the
route's ``parentRefs`` names the Gateway (and the listener, by ``sectionName`` or ``port``,
where given), the listener allows routes from the route's namespace and of its kind
(``allowedRoutes``), and their hostnames intersect. That is read from the objects alone: the
status an implementation writes on routes is often missing from a snapshot, and it says what
was accepted, not what was asked for.
"""

from collections import defaultdict

from posture.scanning.checks.common import as_dict, as_list
from posture.scanning.inventory import Resource, Selector

GROUP = "gateway.networking.k8s.io"
# The routes an HTTP or HTTPS listener carries, and those a TCP listener does (TLSRoute and
# UDPRoute, which Rampart does not read, attach to TLS and UDP listeners).
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute")
TCP_ROUTE_KINDS = ("TCPRoute",)
# Set by Kubernetes on every namespace: a selector may name a namespace by it.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


# Implementations whose rate limits Rampart reads, by the controllerName of a Gateway's class.
ENVOY_GATEWAY = "gateway.envoyproxy.io/gatewayclass-controller"
KONG = frozenset({"konghq.com/kic-gateway-controller", "konghq.com/gateway-operator"})
TRAEFIK = "traefik.io/gateway-controller"


def controller_of(gateway: Resource, inventory) -> str | None:
    """The controllerName of the Gateway's GatewayClass (which implementation serves it), or None
    when the class was not collected."""
    class_name = gateway.spec.get("gatewayClassName")
    gateway_class = inventory.get("GatewayClass", "", class_name) if isinstance(class_name, str) else None
    controller = gateway_class.spec.get("controllerName") if gateway_class is not None else None
    return controller if isinstance(controller, str) and controller else None


def attaches_to(policy: Resource, target: Resource, section: str = "") -> bool:
    """Whether a policy (Envoy Gateway's, and the Gateway API's policy attachment in general)
    applies to ``target``, a Gateway or a route in the policy's namespace: named by one of its
    ``targetRefs`` (or the older single ``targetRef``), whose ``sectionName``, where given, must
    be ``section``; or picked by the labels of one of its ``targetSelectors``."""
    if policy.namespace != target.namespace:
        return False
    spec = policy.spec
    for ref in as_list(spec.get("targetRefs")) or [spec.get("targetRef")]:
        ref = as_dict(ref)
        if (
            ref.get("group", GROUP) == GROUP
            and ref.get("kind") == target.kind
            and ref.get("name") == target.name
            and str(ref.get("sectionName") or section) == section
        ):
            return True
    for chooser in as_list(spec.get("targetSelectors")):
        chooser = as_dict(chooser)
        if chooser.get("group", GROUP) != GROUP or chooser.get("kind") != target.kind:
            continue
        selector = Selector.parse(
            {key: chooser[key] for key in ("matchLabels", "matchExpressions") if key in chooser}
        )
        if selector is not None and not selector.is_empty and selector.matches(target.labels):
            return True
    return False


def listeners(gateway: Resource) -> list[tuple[int, dict]]:
    items = enumerate(as_list(gateway.spec.get("listeners")))
    return [(index, item) for index, item in items if isinstance(item, dict)]


def routes_on(
    gateway: Resource, listener: dict, inventory, kinds: tuple[str, ...] = ROUTE_KINDS
) -> list[Resource]:
    """The routes of these ``kinds`` attached to ``listener`` of ``gateway``, in the inventory's order."""
    by_parent = inventory.memo("gateway-routes-by-parent", lambda: _routes_by_parent(inventory))
    return [
        route
        for route, parent in by_parent.get((gateway.namespace, gateway.name), ())
        if route.kind in kinds
        and _names_listener(parent, listener)
        and _allowed(listener, route, gateway, inventory)
        and _hostnames_intersect(listener, route)
    ]


def redirects_to_https(route: Resource) -> bool:
    """Whether every rule of ``route`` only sends the client to HTTPS (the usual HTTP listener's
    HTTPRoute). A GRPCRoute has no redirect: its rules serve."""
    rules = [rule for rule in as_list(route.spec.get("rules")) if isinstance(rule, dict)]
    return all(redirects_rule_to_https(rule) for rule in rules)


def backend_services(route: Resource) -> list[tuple[str, str, object]]:
    """(namespace, name, port) of each Service a route sends traffic to."""
    found = []
    for rule in as_list(route.spec.get("rules")):
        for backend in as_list(as_dict(rule).get("backendRefs")):
            backend = as_dict(backend)
            name = backend.get("name")
            if (
                isinstance(name, str)
                and backend.get("kind", "Service") == "Service"
                and not backend.get("group")
            ):
                found.append((str(backend.get("namespace") or route.namespace), name, backend.get("port")))
    return found


def unreadable(inventory, kinds: tuple[str, ...]) -> str | None:
    """Why some of these kinds (routes, policies) could not be read (their coverage gaps), or None."""
    gaps = inventory.coverage_gaps
    unread = [kind for kind in kinds if kind in gaps]
    return "; ".join(f"{kind}: {gaps[kind]}" for kind in unread) if unread else None


def redirects_rule_to_https(rule: dict) -> bool:
    """Whether a route rule only sends the client to HTTPS."""
    for item in as_list(rule.get("filters")):
        item = as_dict(item)
        if item.get("type") == "RequestRedirect":
            scheme = as_dict(item.get("requestRedirect")).get("scheme")
            return isinstance(scheme, str) and scheme.lower() == "https"
    return False


def _routes_by_parent(inventory) -> dict[tuple[str, str], list[tuple[Resource, dict]]]:
    found: dict[tuple[str, str], list[tuple[Resource, dict]]] = defaultdict(list)
    for route in inventory.objects_of(ROUTE_KINDS + TCP_ROUTE_KINDS):
        for parent in as_list(route.spec.get("parentRefs")):
            parent = as_dict(parent)
            name = parent.get("name")
            if (
                isinstance(name, str)
                and parent.get("group", GROUP) == GROUP
                and parent.get("kind", "Gateway") == "Gateway"
            ):
                namespace = parent.get("namespace") or route.namespace
                found[(str(namespace), name)].append((route, parent))
    return dict(found)


def _names_listener(parent: dict, listener: dict) -> bool:
    section = parent.get("sectionName")
    if section is not None and section != listener.get("name"):
        return False
    port = parent.get("port")
    return port is None or port == listener.get("port")


def _allowed(listener: dict, route: Resource, gateway: Resource, inventory) -> bool:
    allowed = as_dict(listener.get("allowedRoutes"))
    kinds = [as_dict(kind) for kind in as_list(allowed.get("kinds"))]
    if kinds and not any(k.get("kind") == route.kind and k.get("group", GROUP) == GROUP for k in kinds):
        return False
    namespaces = as_dict(allowed.get("namespaces"))
    origin = namespaces.get("from", "Same")
    if origin == "All":
        return True
    if origin == "Selector":
        raw = namespaces.get("selector")
        selector = Selector.parse(raw) if isinstance(raw, dict) else None  # none given: none selected
        namespace = inventory.namespaces.get(route.namespace)
        labels = namespace.labels if namespace is not None else {}
        labels = {**labels, NAMESPACE_NAME_LABEL: route.namespace}
        return selector is not None and selector.matches(labels)
    return route.namespace == gateway.namespace  # "Same", and anything unknown


def _hostnames_intersect(listener: dict, route: Resource) -> bool:
    listener_host = listener.get("hostname")
    route_hosts = [host for host in as_list(route.spec.get("hostnames")) if isinstance(host, str)]
    if not isinstance(listener_host, str) or not listener_host or not route_hosts:
        return True
    return any(_intersect(listener_host.lower(), host.lower()) for host in route_hosts)


def _intersect(first: str, second: str) -> bool:
    if first == second:
        return True
    for wildcard, other in ((first, second), (second, first)):
        # "*.example.com" covers every name with at least one more label before ".example.com".
        if wildcard.startswith("*.") and other.endswith(wildcard[1:]) and len(other) > len(wildcard) - 1:
            return True
    return False
