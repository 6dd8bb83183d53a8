"""Ingress hardening: TLS, rate limiting and a WAF in front of public endpoints; TLS on the
Gateway API's listeners too (gateways.py reads which routes they carry).

Rate limiting and WAFs are configured per controller, mostly through
annotations; the tables below are what Rampart recognises, and docs/checks.md
lists them. Anything configured outside the cluster (a CDN, a cloud WAF bound
to the load balancer by other means) is invisible here: exempt such Ingresses
with the ``rampart.dev/ignore`` annotation and say why.
"""

import json
import re
from collections.abc import Iterator

from posture.scanning.checks.common import as_dict, as_list
from posture.scanning.checks.network import gateways
from posture.scanning.checks.registry import (
    Category,
    Failure,
    Frameworks,
    NotApplicable,
    NotAssessed,
    Severity,
    Target,
    register,
)
from posture.scanning.inventory import Resource

# TLS terminated by the cloud load balancer, configured by annotation instead of spec.tls.
TLS_ANNOTATIONS = (
    "alb.ingress.kubernetes.io/certificate-arn",
    "ingress.gcp.kubernetes.io/pre-shared-cert",
    "networking.gke.io/managed-certificates",
    "appgw.ingress.kubernetes.io/appgw-ssl-certificate",
)
# Annotations that switch rate limiting on, by controller.
RATE_LIMIT_ANNOTATIONS = (
    "nginx.ingress.kubernetes.io/limit-rps",  # ingress-nginx
    "nginx.ingress.kubernetes.io/limit-rpm",
    "nginx.ingress.kubernetes.io/limit-connections",
    "nginx.ingress.kubernetes.io/global-rate-limit",
    "nginx.org/limit-req-rate",  # NGINX Inc. controller
    "haproxy.org/rate-limit-requests",  # HAProxy Technologies controller
    "haproxy-ingress.github.io/limit-rps",  # haproxy-ingress
    "haproxy-ingress.github.io/limit-connections",
    "haproxy.router.openshift.io/rate-limit-connections",  # OpenShift router
    "ingress.kubernetes.io/rate-limit",  # Voyager and older controllers
)
TRAEFIK_MIDDLEWARES = "traefik.ingress.kubernetes.io/router.middlewares"
KONG_PLUGINS = "konghq.com/plugins"
KONG_RATE_LIMIT_PLUGINS = frozenset({"rate-limiting", "rate-limiting-advanced", "response-ratelimiting"})
# Annotations that put a WAF in front of the Ingress, by controller or cloud.
WAF_ANNOTATIONS: dict[str, str] = {
    "appprotect.f5.com/app-protect-enable": "NGINX App Protect",
    "alb.ingress.kubernetes.io/wafv2-acl-arn": "AWS WAFv2",
    "alb.ingress.kubernetes.io/waf-acl-id": "AWS WAF Classic",
    "alb.ingress.kubernetes.io/web-acl-id": "AWS WAF Classic",
    "appgw.ingress.kubernetes.io/waf-policy-for-path": "Azure Application Gateway WAF",
}
# ingress-nginx loads ModSecurity (and the OWASP rules) in DetectionOnly mode: it logs attacks
# and blocks none until a modsecurity-snippet turns the engine On.
NGINX_MODSECURITY = (
    "nginx.ingress.kubernetes.io/enable-modsecurity",
    "nginx.ingress.kubernetes.io/enable-owasp-core-rules",
)
NGINX_MODSECURITY_SNIPPET = "nginx.ingress.kubernetes.io/modsecurity-snippet"
_ENGINE_ON = re.compile(r"(?im)^\s*SecRuleEngine\s+On\b")
BACKEND_CONFIG_ANNOTATIONS = ("cloud.google.com/backend-config", "beta.cloud.google.com/backend-config")
_FALSY = frozenset({"", "false", "0", "no", "off"})


def _annotation_on(annotations: dict, key: str) -> bool:
    value = annotations.get(key)
    return value is not None and str(value).strip().lower() not in _FALSY


def is_internal(ingress: Resource) -> bool:
    annotations = ingress.annotations
    ingress_class = str(
        ingress.spec.get("ingressClassName") or annotations.get("kubernetes.io/ingress.class") or ""
    )
    return str(
        annotations.get("alb.ingress.kubernetes.io/scheme", "")
    ).lower() == "internal" or ingress_class.lower() in ("gce-internal", "nginx-internal", "internal")


def _public(entry_point: Resource) -> bool:
    # The Gateway API has no standard mark for an internal Gateway.
    return entry_point.kind == "Gateway" or not is_internal(entry_point)


def _backend_services(ingress: Resource) -> set[str]:
    names: set[str] = set()
    spec = ingress.spec
    backends = [as_dict(spec.get("defaultBackend") or spec.get("backend"))]
    for rule in as_list(spec.get("rules")):
        for path in as_list(as_dict(as_dict(rule).get("http")).get("paths")):
            backends.append(as_dict(as_dict(path).get("backend")))
    for backend in backends:
        name = as_dict(backend.get("service")).get("name") or backend.get("serviceName")
        if isinstance(name, str) and name:
            names.add(name)
    return names


@register(
    id="ingress-no-tls",
    title="Ingress or Gateway without TLS",
    category=Category.NETWORK,
    severity=Severity.MEDIUM,
    target=Target.RESOURCES,
    kinds=("Ingress", "Gateway"),
    frameworks=Frameworks(nsa=("Network separation and hardening",), mitre=("T1557",)),
    description="""
An entry point without TLS serves its hosts over plain HTTP: credentials, session cookies and
data cross the network readable and modifiable.

An Ingress passes when `spec.tls` covers every host its rules name (exactly, or by a `*.`
wildcard for one label; a `tls` entry without hosts covers them all), or with TLS terminated
by the cloud load balancer through its certificate annotation (AWS ALB `certificate-arn`, GKE
`pre-shared-cert` / `managed-certificates`, Azure Application Gateway `appgw-ssl-certificate`).
A host missing from `spec.tls` is reported.

A Gateway (the Gateway API) is reported for each `HTTP` listener that carries a GRPCRoute, or
an HTTPRoute which does more than redirect to HTTPS: the usual plain listener whose routes
answer with a `RequestRedirect` to `scheme: https` passes, and so does a listener no route is
attached to. Attachment is read as the Gateway API defines it: the route's `parentRefs` (with
`sectionName` or `port`), the listener's `allowedRoutes` (namespaces and kinds) and the
hostnames of both. Not assessed when the routes could not be read.
""",
    remediation="""
```yaml
# Ingress
spec:
  tls:
    - hosts: ["shop.example.com"]
      secretName: shop-example-com-tls  # e.g. issued by cert-manager
---
# Gateway: serve HTTPS, and let the HTTP listener only redirect
spec:
  listeners:
    - name: https
      protocol: HTTPS
      port: 443
      tls: {certificateRefs: [{name: shop-example-com-tls}]}
---
kind: HTTPRoute  # attached to the HTTP listener (sectionName: http)
spec:
  rules:
    - filters:
        - type: RequestRedirect
          requestRedirect: {scheme: https, statusCode: 301}
```
""",
)
def ingress_no_tls(entry_point: Resource, ctx) -> Iterator[Failure]:
    if entry_point.kind == "Gateway":
        yield from _plain_gateway_listeners(entry_point, ctx)
        return
    ingress = entry_point
    if any(_annotation_on(ingress.annotations, key) for key in TLS_ANNOTATIONS):
        return
    tls = [entry for entry in as_list(ingress.spec.get("tls")) if isinstance(entry, dict)]
    if not tls:
        yield Failure(message="Ingress serves plain HTTP (no spec.tls)", path="spec.tls", value=None)
        return
    covered = {str(host).lower() for entry in tls for host in as_list(entry.get("hosts"))}
    if any(not as_list(entry.get("hosts")) for entry in tls):
        return  # a certificate for every host the controller serves
    plain = [host for host in _rule_hosts(ingress) if not _covered(host, covered)]
    if plain:
        yield Failure(
            message=f"Ingress serves {', '.join(plain)} over plain HTTP (not in spec.tls)",
            path="spec.tls",
            value=plain,
        )


def _plain_gateway_listeners(gateway: Resource, ctx) -> Iterator[Failure]:
    unread = gateways.unreadable(ctx.inventory, gateways.ROUTE_KINDS)
    if unread:
        raise NotAssessed(unread)
    for index, listener in gateways.listeners(gateway):
        if str(listener.get("protocol", "")).upper() != "HTTP":
            continue  # HTTPS and TLS carry TLS; TCP and UDP are not web traffic
        serving = [
            route
            for route in gateways.routes_on(gateway, listener, ctx.inventory)
            if not gateways.redirects_to_https(route)
        ]
        if serving:
            names = [f"{route.kind} {route.namespace}/{route.name}" for route in serving]
            name, port = listener.get("name", f"#{index}"), listener.get("port")
            yield Failure(
                message=f"listener {name} (port {port}) serves {', '.join(names)} over plain HTTP",
                path=f"spec.listeners[{index}].protocol",
                value={"listener": name, "port": port, "routes": names},
            )


def _rule_hosts(ingress: Resource) -> list[str]:
    hosts = (as_dict(rule).get("host") for rule in as_list(ingress.spec.get("rules")))
    return list(dict.fromkeys(host.lower() for host in hosts if isinstance(host, str) and host))


def _covered(host: str, tls_hosts: set[str]) -> bool:
    if host in tls_hosts:
        return True
    _, dot, parent = host.partition(".")
    return bool(dot) and f"*.{parent}" in tls_hosts


def _referenced(annotation: str) -> list[tuple[str, str]]:
    """(namespace or "", name) of each comma-separated reference; Traefik writes ns-name@provider."""
    found = []
    for item in annotation.split(","):
        item = item.strip()
        if item:
            found.append(("", item.split("@", 1)[0]))
    return found


def _traefik_limits(ingress: Resource, ctx) -> bool:
    value = ingress.annotations.get(TRAEFIK_MIDDLEWARES)
    if not isinstance(value, str):
        return False
    middlewares = [*ctx.inventory.of_kind("Middleware")]
    for _ns, reference in _referenced(value):
        for middleware in middlewares:
            # Traefik names a CRD middleware "<namespace>-<name>".
            named = reference in (f"{middleware.namespace}-{middleware.name}", middleware.name)
            if named and _limiting_middleware(middleware):
                return True
        if "ratelimit" in reference.replace("-", "").lower():
            return True  # the middleware itself was not collected; trust its name
    return False


def _limiting_middleware(middleware: Resource) -> bool:
    return "rateLimit" in middleware.spec or "inFlightReq" in middleware.spec


def _limits_requests(plugins: list[str]) -> bool:
    return any(p in KONG_RATE_LIMIT_PLUGINS or "rate-limit" in p for p in plugins)


def _kong_plugins(ingress: Resource, ctx) -> list[str]:
    value = ingress.annotations.get(KONG_PLUGINS)
    if not isinstance(value, str):
        return []
    plugins = []
    for _ns, name in _referenced(value):
        found = ctx.inventory.get("KongPlugin", ingress.namespace, name) or ctx.inventory.get(
            "KongClusterPlugin", "", name
        )
        plugins.append(str(found.raw.get("plugin") or "") if found is not None else name)
    return plugins


@register(
    id="ingress-no-rate-limit",
    title="Public Ingress or Gateway without rate limiting",
    category=Category.NETWORK,
    severity=Severity.LOW,
    target=Target.RESOURCES,
    kinds=("Ingress", "Gateway"),
    applies=_public,
    frameworks=Frameworks(nsa=("Network separation and hardening",), mitre=("T1110", "T1499")),
    description="""
Without a rate limit one client can brute-force logins, scrape the API or exhaust the
backends. Recognised: ingress-nginx `limit-rps` / `limit-rpm` / `limit-connections` /
`global-rate-limit`; NGINX Inc. `nginx.org/limit-req-rate`; HAProxy `haproxy.org/rate-limit-requests`
and haproxy-ingress `limit-rps` / `limit-connections`; the OpenShift router's
`rate-limit-connections`; a Traefik `router.middlewares` reference to a Middleware with
`rateLimit` or `inFlightReq`; a Kong `konghq.com/plugins` reference to a `rate-limiting`,
`rate-limiting-advanced` or `response-ratelimiting` plugin. When the referenced Middleware or
KongPlugin was not collected, its name decides. Ingresses marked internal (AWS ALB
`scheme: internal`, the `gce-internal` class) are not evaluated. An AWS ALB Ingress without a
`scheme` annotation is evaluated as internet-facing, although the controller's own default is
internal: an `IngressClassParams` Rampart does not read may make every Ingress of its class
internet-facing, and a missed exposure costs more than a finding to exempt.

A Gateway (the Gateway API) is evaluated where Rampart reads how its implementation, named by
its GatewayClass's `controllerName`, limits rates: Envoy Gateway (a BackendTrafficPolicy with a
`rateLimit` attached to the Gateway, the listener or the route, by `targetRefs` or
`targetSelectors`), Kong (a `konghq.com/plugins` annotation on the route naming a rate-limiting
plugin) and Traefik (an `ExtensionRef` filter on every rule of the route to a Middleware with
`rateLimit` or `inFlightReq`). It is reported with each HTTPRoute or GRPCRoute on its HTTP and
HTTPS listeners that serves without one (routes that only redirect to HTTPS aside). Gateways
of other implementations (Istio, Cilium, GKE...), or whose class was not collected, are not
evaluated; not assessed when the routes, GatewayClasses or the implementation's policies could
not be read.
""",
    remediation="""
For ingress-nginx:

```yaml
metadata:
  annotations:
    nginx.ingress.kubernetes.io/limit-rps: "20"
    nginx.ingress.kubernetes.io/limit-connections: "10"
```
""",
)
def ingress_no_rate_limit(ingress: Resource, ctx) -> Iterator[Failure]:
    if ingress.kind == "Gateway":
        yield from _unlimited_gateway_routes(ingress, ctx)
        return
    annotations = ingress.annotations
    if any(_annotation_on(annotations, key) for key in RATE_LIMIT_ANNOTATIONS):
        return
    if _traefik_limits(ingress, ctx):
        return
    if _limits_requests(_kong_plugins(ingress, ctx)):
        return
    yield Failure(message="public Ingress has no rate limit", path="metadata.annotations", value=None)


# --- Gateways: each implementation limits rates in its own objects -----------------------------


def _envoy_limits(gateway: Resource, listener: dict, route: Resource, ctx) -> bool:
    # A BackendTrafficPolicy with a rateLimit, on the Gateway (or this listener) or on the route.
    section = str(listener.get("name") or "")
    for policy in ctx.inventory.of_kind("BackendTrafficPolicy"):
        if as_dict(policy.spec.get("rateLimit")) and (
            gateways.attaches_to(policy, gateway, section) or gateways.attaches_to(policy, route)
        ):
            return True
    return False


def _kong_limits(_gateway: Resource, _listener: dict, route: Resource, ctx) -> bool:
    return _limits_requests(_kong_plugins(route, ctx))  # konghq.com/plugins on the route


def _traefik_route_limits(_gateway: Resource, _listener: dict, route: Resource, ctx) -> bool:
    # Every rule that serves must pass through a rate-limiting Middleware (an ExtensionRef filter).
    for rule in as_list(route.spec.get("rules")):
        if gateways.redirects_rule_to_https(as_dict(rule)):
            continue
        limited = False
        for item in as_list(as_dict(rule).get("filters")):
            reference = as_dict(as_dict(item).get("extensionRef"))
            if as_dict(item).get("type") == "ExtensionRef" and reference.get("kind") == "Middleware":
                middleware = ctx.inventory.get("Middleware", route.namespace, str(reference.get("name")))
                limited = limited or (middleware is not None and _limiting_middleware(middleware))
        if not limited:
            return False
    return True


# controllerName -> (how it limits a route, the kinds that must have been read to know).
GATEWAY_RATE_LIMITS: dict[str, tuple] = {
    gateways.ENVOY_GATEWAY: (_envoy_limits, ("BackendTrafficPolicy",)),
    **dict.fromkeys(gateways.KONG, (_kong_limits, ())),
    gateways.TRAEFIK: (_traefik_route_limits, ("Middleware",)),
}


def _unlimited_gateway_routes(gateway: Resource, ctx) -> Iterator[Failure]:
    inventory = ctx.inventory
    if "GatewayClass" in inventory.coverage_gaps:
        raise NotAssessed(gateways.unreadable(inventory, ("GatewayClass",)))
    controller = gateways.controller_of(gateway, inventory)
    if controller not in GATEWAY_RATE_LIMITS:
        raise NotApplicable  # an implementation whose rate limits Rampart does not read
    limits, policy_kinds = GATEWAY_RATE_LIMITS[controller]
    unread = gateways.unreadable(inventory, (*gateways.ROUTE_KINDS, *policy_kinds))
    if unread:
        raise NotAssessed(unread)
    unlimited: dict[str, None] = {}
    for _index, listener in gateways.listeners(gateway):
        if str(listener.get("protocol", "")).upper() not in ("HTTP", "HTTPS"):
            continue
        for route in gateways.routes_on(gateway, listener, inventory):
            if not gateways.redirects_to_https(route) and not limits(gateway, listener, route, ctx):
                unlimited[f"{route.kind} {route.namespace}/{route.name}"] = None
    if unlimited:
        yield Failure(
            message=f"Gateway serves {', '.join(unlimited)} without a rate limit",
            path="spec.listeners",
            value={"controller": controller, "routes": list(unlimited)},
        )


def _cloud_armor(ingress: Resource, ctx) -> bool:
    # GKE: the backend Service names a BackendConfig whose securityPolicy is a Cloud Armor policy.
    for service_name in _backend_services(ingress):
        service = ctx.inventory.get("Service", ingress.namespace, service_name)
        if service is None:
            continue
        for key in BACKEND_CONFIG_ANNOTATIONS:
            raw = service.annotations.get(key)
            if not isinstance(raw, str):
                continue
            try:
                config = json.loads(raw)
            except ValueError:
                continue
            names = [config.get("default")] + list(as_dict(config.get("ports")).values())
            for name in names:
                backend_config = ctx.inventory.get("BackendConfig", ingress.namespace, str(name or ""))
                if backend_config is not None and as_dict(backend_config.spec.get("securityPolicy")).get(
                    "name"
                ):
                    return True
    return False


def _nginx_controller_modsecurity(ctx) -> tuple[bool, bool]:
    """(enabled, blocking) from an ingress-nginx controller ConfigMap, which sets both for every Ingress."""

    def find() -> tuple[bool, bool]:
        enabled = blocking = False
        for cm in ctx.inventory.of_kind("ConfigMap"):
            data = as_dict(cm.raw.get("data"))
            if "nginx" in cm.name and str(data.get("enable-modsecurity", "")).lower() == "true":
                enabled = True
                blocking = blocking or bool(_ENGINE_ON.search(str(data.get("modsecurity-snippet", ""))))
        return enabled, blocking

    return ctx.inventory.memo("nginx-controller-modsecurity", find)


def _nginx_modsecurity(ingress: Resource, ctx) -> tuple[bool, bool]:
    """(enabled, blocking) for an ingress-nginx Ingress: its annotations, else the controller's."""
    annotations = ingress.annotations
    controller_enabled, controller_blocking = (False, False)
    if "nginx" in _ingress_class(ingress).lower() or not _ingress_class(ingress):
        controller_enabled, controller_blocking = _nginx_controller_modsecurity(ctx)
    enabled = any(_annotation_on(annotations, key) for key in NGINX_MODSECURITY) or controller_enabled
    snippet = annotations.get(NGINX_MODSECURITY_SNIPPET)
    blocking = bool(_ENGINE_ON.search(snippet)) if isinstance(snippet, str) else controller_blocking
    return enabled, enabled and blocking


def _ingress_class(ingress: Resource) -> str:
    return str(
        ingress.spec.get("ingressClassName") or ingress.annotations.get("kubernetes.io/ingress.class") or ""
    )


@register(
    id="ingress-no-waf",
    title="Public Ingress without a WAF",
    category=Category.NETWORK,
    severity=Severity.LOW,
    target="Ingress",
    applies=_public,
    frameworks=Frameworks(nsa=("Network separation and hardening",), mitre=("T1190",)),
    description="""
A web application firewall stops the commodity attacks (SQL injection, path traversal, known
CVE probes) before they reach application code. Recognised: ingress-nginx ModSecurity
(`enable-modsecurity` or `enable-owasp-core-rules` on the Ingress, or `enable-modsecurity:
"true"` in the controller ConfigMap) only when a `modsecurity-snippet` (on the Ingress, or in
the ConfigMap) sets `SecRuleEngine On`: ingress-nginx runs it in DetectionOnly mode otherwise,
logging attacks and blocking none, which is reported as such; NGINX App Protect
`appprotect.f5.com/app-protect-enable`; AWS ALB `wafv2-acl-arn`, `waf-acl-id` or `web-acl-id`;
Azure Application Gateway `waf-policy-for-path`; a Traefik Middleware plugin named after
ModSecurity, Coraza or a WAF; on GKE, a backend Service whose BackendConfig sets a Cloud
Armor `securityPolicy`. Ingresses marked internal are not evaluated; nor are Gateways (the
Gateway API), whose WAF, where there is one, is bound by the implementation's own policy
objects, which Rampart does not read.
""",
    remediation="""
For ingress-nginx, turn ModSecurity on in blocking mode in the controller's ConfigMap
(per-Ingress `modsecurity-snippet` annotations are refused unless snippet annotations are
allowed, which they should not be):

```yaml
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
data:
  enable-modsecurity: "true"
  enable-owasp-modsecurity-crs: "true"
  modsecurity-snippet: |
    SecRuleEngine On
```
On GKE, attach a Cloud Armor policy through a BackendConfig:

```yaml
apiVersion: cloud.google.com/v1
kind: BackendConfig
spec:
  securityPolicy:
    name: shop-waf
```
""",
)
def ingress_no_waf(ingress: Resource, ctx) -> Iterator[Failure]:
    annotations = ingress.annotations
    if any(_annotation_on(annotations, key) for key in WAF_ANNOTATIONS):
        return
    if _cloud_armor(ingress, ctx):
        return
    modsecurity, blocking = _nginx_modsecurity(ingress, ctx)
    if blocking:
        return
    middlewares = annotations.get(TRAEFIK_MIDDLEWARES)
    if isinstance(middlewares, str):
        for middleware in ctx.inventory.of_kind("Middleware"):
            plugin = json.dumps(middleware.spec.get("plugin") or {}).lower()
            if middleware.name in middlewares and any(w in plugin for w in ("modsecurity", "coraza", "waf")):
                return
    if modsecurity:
        yield Failure(
            message="ModSecurity only detects here (no SecRuleEngine On): it logs attacks and blocks none",
            path=f"metadata.annotations.{NGINX_MODSECURITY_SNIPPET}",
            value=None,
        )
        return
    yield Failure(
        message="public Ingress has no web application firewall in front of it",
        path="metadata.annotations",
        value=None,
    )
