"""Network checks: NetworkPolicy isolation, Services reachable from outside, Ingress hardening."""

import json

from posture.scanning.checks.network.calico import parse_selector
from tests.scanning.checks.builders import container, deployment, findings, names, obj, scan


def _policy(name="default-deny", namespace="shop", selector=None, **spec) -> dict:
    return obj(
        "NetworkPolicy",
        name,
        namespace=namespace,
        api_version="networking.k8s.io/v1",
        spec={"podSelector": {} if selector is None else selector, **spec},
    )


def _namespace(name="shop", labels=None) -> dict:
    return obj("Namespace", name, namespace=None, metadata={"labels": labels or {}})


def _service(name="db", type_="ClusterIP", ports=(5432,), selector=None, annotations=None, **spec) -> dict:
    metadata = {"annotations": annotations} if annotations else {}
    return obj(
        "Service",
        name,
        metadata=metadata,
        spec={
            "type": type_,
            "ports": [{"port": p} for p in ports],
            "selector": selector or {"app": name},
            **spec,
        },
    )


def _ingress(name="shop", annotations=None, tls=False, backend="web") -> dict:
    spec = {
        "rules": [
            {
                "host": "shop.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": backend, "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ]
    }
    if tls:
        spec["tls"] = [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]
    return obj(
        "Ingress",
        name,
        api_version="networking.k8s.io/v1",
        spec=spec,
        metadata={"annotations": annotations or {}},
    )


# --- NetworkPolicy isolation ---------------------------------------------------------------


def test_it_flags_a_workload_no_network_policy_selects():
    policy = _policy(selector={"matchLabels": {"app": "other"}})
    [result] = findings("no-network-policy", deployment(), policy)
    assert result.path == "spec.template.metadata.labels"
    assert result.value == {"app": "web"}


def test_it_passes_a_workload_selected_by_match_expressions():
    policy = _policy(
        selector={"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}
    )
    assert findings("no-network-policy", deployment(), policy) == []


def test_a_policy_in_another_namespace_does_not_isolate_the_workload():
    assert len(findings("no-network-policy", deployment(), _policy(namespace="other"))) == 1


def test_a_clusterwide_cilium_policy_isolates_the_workload():
    cilium = obj(
        "CiliumClusterwideNetworkPolicy",
        "deny",
        namespace=None,
        api_version="cilium.io/v2",
        spec={"endpointSelector": {}, "ingress": [{}]},
    )
    assert findings("no-network-policy", deployment(), cilium) == []


def test_a_clusterwide_cilium_policy_for_one_namespace_isolates_its_workloads_only():
    # Cilium labels every endpoint with its namespace; workload and namespace checks agree.
    cilium = obj(
        "CiliumClusterwideNetworkPolicy",
        "shop-only",
        namespace=None,
        api_version="cilium.io/v2",
        spec={
            "endpointSelector": {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "shop"}},
            "ingress": [{}],
        },
    )
    assert findings("no-network-policy", deployment(namespace="shop"), cilium) == []
    assert findings("namespace-no-network-policy", _namespace("shop"), cilium) == []
    assert len(findings("no-network-policy", deployment(namespace="blog"), cilium)) == 1


def test_it_is_not_assessed_when_network_policies_could_not_be_read():
    results = scan(deployment(), checks=["no-network-policy"], gaps={"NetworkPolicy": "forbidden"})
    assert results.findings == []
    assert "no-network-policy" in results.not_assessed


def test_it_flags_a_namespace_without_any_network_policy():
    assert names(findings("namespace-no-network-policy", _namespace())) == [("Namespace", "shop")]


def test_it_passes_a_namespace_with_a_network_policy():
    assert (
        findings("namespace-no-network-policy", _namespace(), _policy(selector={"matchLabels": {"a": "b"}}))
        == []
    )


def test_it_does_not_evaluate_namespaces_that_hold_no_workloads():
    assert (
        scan(_namespace("kube-node-lease"), checks=["namespace-no-network-policy"]).evaluated[
            "namespace-no-network-policy"
        ]
        == 0
    )


def test_it_flags_a_namespace_without_default_deny_in_both_directions():
    ingress_only = _policy(policyTypes=["Ingress"])
    [result] = findings("namespace-no-default-deny", _namespace(), ingress_only)
    assert result.value == ["Egress"]


def test_an_empty_egress_list_without_policy_types_leaves_egress_open():
    # The API server then stores policyTypes [Ingress] only: egress is not isolated.
    [result] = findings("namespace-no-default-deny", _namespace(), _policy(ingress=[], egress=[]))
    assert result.value == ["Egress"]
    declared = _policy(policyTypes=["Ingress", "Egress"], ingress=[], egress=[])
    assert findings("namespace-no-default-deny", _namespace(), declared) == []


def test_it_passes_default_deny_split_across_two_policies():
    policies = (_policy("deny-in", policyTypes=["Ingress"]), _policy("deny-out", policyTypes=["Egress"]))
    assert findings("namespace-no-default-deny", _namespace(), *policies) == []


def test_a_namespace_wide_policy_that_allows_traffic_is_not_a_default_deny():
    allow = _policy(policyTypes=["Ingress", "Egress"], ingress=[{}], egress=[{}])
    assert len(findings("namespace-no-default-deny", _namespace(), allow)) == 1


def test_it_flags_a_policy_that_admits_every_source_on_every_port():
    for rule in ({}, {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}):
        [result] = findings("network-policy-allow-all", _policy(ingress=[rule]))
        assert result.path == "spec.ingress[0]"


def test_it_passes_policies_restricted_by_source_or_port():
    restricted = _policy(
        ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}, {"ports": [{"port": 443}]}],
        egress=[{}],
        policyTypes=["Ingress", "Egress"],
    )
    assert findings("network-policy-allow-all", restricted) == []


# --- Services -----------------------------------------------------------------------------------


def test_it_flags_a_database_port_behind_a_load_balancer():
    [result] = findings("database-exposed", _service(type_="LoadBalancer", ports=(5432,)))
    assert result.value["datastore"] == "PostgreSQL"


def test_it_recognises_a_database_by_the_image_its_selector_picks():
    database = deployment(container(image="bitnami/redis:7.2"), name="cache")
    service = _service("cache", type_="NodePort", ports=(8080,))
    [result] = findings("database-exposed", database, service)
    assert result.value["datastore"] == "Redis"
    assert "bitnami/redis:7.2" in result.value["matched"]


def test_it_flags_a_database_behind_external_ips():
    assert len(findings("database-exposed", _service(ports=(27017,), externalIPs=["203.0.113.7"]))) == 1


def test_it_passes_a_database_on_a_cluster_ip_service():
    assert findings("database-exposed", _service(ports=(5432,))) == []


def test_an_exporter_next_to_a_database_is_not_a_database():
    exporter = deployment(container(image="oliver006/redis_exporter:v1.62"), name="metrics")
    assert (
        findings("database-exposed", exporter, _service("metrics", type_="LoadBalancer", ports=(9121,))) == []
    )


def test_a_port_named_after_a_datastore_counts_but_a_tool_beside_it_does_not():
    def node_port(port_name):
        ports = [{"name": port_name, "port": 9187}]
        return obj("Service", port_name, spec={"type": "NodePort", "ports": ports, "selector": {"app": "x"}})

    for name, datastore in (("postgresql", "PostgreSQL"), ("mysql-rw", "MySQL"), ("mongodb", "MongoDB")):
        [result] = findings("database-exposed", node_port(name))
        assert result.value["datastore"] == datastore
    for name in ("postgres-exporter", "mongo-express", "redisinsight", "http-metrics"):
        assert findings("database-exposed", node_port(name)) == [], name


def test_a_dashboard_behind_a_load_balancer_is_a_sensitive_interface_exposed():
    dashboard = deployment(container(image="docker.io/kubernetesui/dashboard:v2.7.0"), name="dashboard")
    [result] = findings(
        "sensitive-interface-exposed", dashboard, _service("dashboard", "LoadBalancer", (443,))
    )
    assert result.value["interface"] == "Kubernetes Dashboard"
    assert "a public LoadBalancer" in result.message
    assert "service account's permissions" in result.message
    assert result.path == "spec.type"


def test_interfaces_are_recognised_through_mirrors_and_every_kind_of_exposure():
    cases = (
        ("registry.example.com/hub/jenkins/jenkins:lts", "Jenkins", {"type_": "NodePort"}),
        ("quay.io/jupyter/scipy-notebook:2024-10-07", "Jupyter", {"externalIPs": ["203.0.113.7"]}),
        ("tensorflow/tensorflow:2.15.0-gpu-jupyter", "Jupyter", {"type_": "LoadBalancer"}),
        ("rayproject/ray:2.9.0", "Ray", {"type_": "LoadBalancer"}),
        ("vllm/vllm-openai:v0.6.3", "vLLM", {"type_": "LoadBalancer"}),
    )
    for image, product, exposure in cases:
        workload = deployment(container(image=image), name="ui")
        [result] = findings(
            "sensitive-interface-exposed", workload, _service("ui", ports=(8080,), **exposure)
        )
        assert result.value["interface"] == product, image


def test_a_sensitive_interface_on_a_cluster_ip_service_passes():
    dashboard = deployment(container(image="kubernetesui/dashboard:v2.7.0"), name="dashboard")
    assert findings("sensitive-interface-exposed", dashboard, _service("dashboard", ports=(443,))) == []


def test_a_name_alone_does_not_make_a_sensitive_interface():
    # What runs decides: a web server named like a dashboard, and the agents and sidecars of
    # sensitive software, are not the interface itself.
    for name, image in (
        ("kubernetes-dashboard", "nginx:alpine"),
        ("ci", "jenkins/inbound-agent:3261"),
        ("scraper", "kubernetesui/metrics-scraper:v1.0.8"),
        ("reloader", "quay.io/prometheus-operator/prometheus-config-reloader:v0.77"),
        ("training", "tensorflow/tensorflow:2.15.0-gpu"),
    ):
        workload = deployment(container(image=image), name=name)
        service = _service(name, type_="LoadBalancer", ports=(80,))
        assert findings("sensitive-interface-exposed", workload, service) == [], image


def test_further_sensitive_images_come_from_the_check_settings():
    tool = deployment(container(image="registry.example.com/ops/acme-admin:3"), name="admin")
    service = _service("admin", type_="NodePort", ports=(80,))
    assert findings("sensitive-interface-exposed", tool, service) == []
    options = {"extra_sensitive_interface_images": ["acme-admin"]}
    [result] = findings("sensitive-interface-exposed", tool, service, options=options)
    assert result.value["interface"] == "acme-admin"


def test_an_aws_load_balancer_controller_nlb_is_internal_unless_it_says_internet_facing():
    lbc = {"service.beta.kubernetes.io/aws-load-balancer-type": "external"}
    assert (
        findings(
            "service-exposed-externally", _service("web", type_="LoadBalancer", ports=(443,), annotations=lbc)
        )
        == []
    )
    public = {**lbc, "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"}
    exposed = _service("web", type_="LoadBalancer", ports=(443,), annotations=public)
    assert len(findings("service-exposed-externally", exposed)) == 1
    by_class = _service("web", type_="LoadBalancer", ports=(443,), loadBalancerClass="service.k8s.aws/nlb")
    assert findings("service-exposed-externally", by_class) == []


def test_the_source_ranges_field_overrides_the_annotation():
    # GetLoadBalancerSourceRanges ignores the annotation whenever the field is set.
    limited = _service(
        "web",
        type_="LoadBalancer",
        ports=(443,),
        loadBalancerSourceRanges=["203.0.113.0/24"],
        annotations={"service.beta.kubernetes.io/load-balancer-source-ranges": "0.0.0.0/0"},
    )
    assert findings("service-exposed-externally", limited) == []
    annotated = _service(
        "web",
        type_="LoadBalancer",
        ports=(443,),
        annotations={"service.beta.kubernetes.io/load-balancer-source-ranges": "203.0.113.0/24"},
    )
    assert findings("service-exposed-externally", annotated) == []


def test_it_flags_a_load_balancer_open_to_any_source():
    assert (
        len(findings("service-exposed-externally", _service("web", type_="LoadBalancer", ports=(443,)))) == 1
    )


def test_it_passes_a_load_balancer_with_source_ranges_or_marked_internal():
    limited = _service("web", type_="LoadBalancer", ports=(443,), loadBalancerSourceRanges=["203.0.113.0/24"])
    internal = _service(
        "api",
        type_="LoadBalancer",
        ports=(443,),
        annotations={"networking.gke.io/load-balancer-type": "Internal"},
    )
    assert findings("service-exposed-externally", limited, internal) == []


def test_it_flags_a_node_port_service():
    assert len(findings("service-nodeport", _service("web", type_="NodePort", ports=(80,)))) == 1


def test_it_passes_a_cluster_ip_service():
    assert findings("service-nodeport", _service("web", ports=(80,))) == []


def test_it_flags_a_service_that_exposes_ssh():
    [result] = findings("ssh-port-exposed", _service("bastion", ports=(22,)))
    assert result.path == "spec.ports[0].port"


def test_it_passes_a_service_without_ssh():
    assert findings("ssh-port-exposed", _service("web", ports=(80, 443))) == []


# --- Ingress ---------------------------------------------------------------------------------------


def test_it_flags_an_ingress_without_tls():
    assert len(findings("ingress-no-tls", _ingress())) == 1


def test_it_flags_a_host_that_spec_tls_leaves_out():
    ingress = _ingress(tls=True)
    ingress["spec"]["rules"].append({**ingress["spec"]["rules"][0], "host": "api.example.com"})
    [result] = findings("ingress-no-tls", ingress)
    assert result.value == ["api.example.com"]
    ingress["spec"]["tls"].append({"hosts": ["*.example.com"], "secretName": "wildcard-tls"})
    assert findings("ingress-no-tls", ingress) == []


def test_it_passes_an_ingress_with_tls_or_a_load_balancer_certificate():
    alb = _ingress(
        "alb", annotations={"alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:eu-west-1:1:cert/x"}
    )
    assert findings("ingress-no-tls", _ingress(tls=True), alb) == []


def test_it_flags_a_public_ingress_without_rate_limiting():
    assert len(findings("ingress-no-rate-limit", _ingress())) == 1


def test_it_recognises_rate_limits_of_several_controllers():
    nginx = _ingress("a", annotations={"nginx.ingress.kubernetes.io/limit-rps": "20"})
    haproxy = _ingress("b", annotations={"haproxy.org/rate-limit-requests": "100"})
    traefik = _ingress(
        "c", annotations={"traefik.ingress.kubernetes.io/router.middlewares": "shop-throttle@kubernetescrd"}
    )
    middleware = obj(
        "Middleware", "throttle", api_version="traefik.io/v1alpha1", spec={"rateLimit": {"average": 100}}
    )
    kong = _ingress("d", annotations={"konghq.com/plugins": "limits"})
    plugin = obj("KongPlugin", "limits", api_version="configuration.konghq.com/v1", plugin="rate-limiting")
    assert findings("ingress-no-rate-limit", nginx, haproxy, traefik, middleware, kong, plugin) == []


def test_it_does_not_evaluate_internal_ingresses_for_rate_limits_or_waf():
    internal = _ingress(annotations={"alb.ingress.kubernetes.io/scheme": "internal"})
    results = scan(internal, checks=["ingress-no-rate-limit", "ingress-no-waf"])
    assert results.evaluated["ingress-no-rate-limit"] == results.evaluated["ingress-no-waf"] == 0


def test_it_flags_a_public_ingress_without_a_waf():
    assert len(findings("ingress-no-waf", _ingress())) == 1


def test_it_recognises_modsecurity_aws_waf_and_cloud_armor():
    blocking = {
        "nginx.ingress.kubernetes.io/enable-modsecurity": "true",
        "nginx.ingress.kubernetes.io/modsecurity-snippet": "SecRuleEngine On\n",
    }
    modsecurity = _ingress("a", annotations=blocking)
    aws = _ingress("b", annotations={"alb.ingress.kubernetes.io/wafv2-acl-arn": "arn:aws:wafv2:x"})
    gke = _ingress("c", backend="web")
    backend = _service(
        "web", ports=(80,), annotations={"cloud.google.com/backend-config": json.dumps({"default": "armor"})}
    )
    backend_config = obj(
        "BackendConfig",
        "armor",
        api_version="cloud.google.com/v1",
        spec={"securityPolicy": {"name": "shop-waf"}},
    )
    assert findings("ingress-no-waf", modsecurity, aws, gke, backend, backend_config) == []


def test_modsecurity_enabled_for_the_whole_nginx_controller_covers_its_ingresses():
    controller = obj(
        "ConfigMap",
        "ingress-nginx-controller",
        namespace="ingress-nginx",
        data={"enable-modsecurity": "true", "modsecurity-snippet": "SecRuleEngine On"},
    )
    ingress = _ingress()
    ingress["spec"]["ingressClassName"] = "nginx"
    assert findings("ingress-no-waf", controller, ingress) == []


def test_modsecurity_in_its_default_detection_only_mode_is_not_a_waf():
    # ingress-nginx loads ModSecurity with SecRuleEngine DetectionOnly: it blocks nothing.
    annotations = {
        "nginx.ingress.kubernetes.io/enable-modsecurity": "true",
        "nginx.ingress.kubernetes.io/enable-owasp-core-rules": "true",
    }
    [result] = findings("ingress-no-waf", _ingress(annotations=annotations))
    assert "logs attacks and blocks none" in result.message
    controller = obj(
        "ConfigMap",
        "ingress-nginx-controller",
        namespace="ingress-nginx",
        data={"enable-modsecurity": "true"},
    )
    [result] = findings("ingress-no-waf", controller, _ingress())
    assert "logs attacks and blocks none" in result.message


# --- the Gateway API -------------------------------------------------------------------


def _gateway(*listeners, name="public", namespace="edge"):
    return obj(
        "Gateway",
        name,
        namespace=namespace,
        api_version="gateway.networking.k8s.io/v1",
        spec={"gatewayClassName": "eg", "listeners": list(listeners)},
    )


def _listener(name="http", protocol="HTTP", port=80, **fields):
    return {"name": name, "protocol": protocol, "port": port, **fields}


def _route(name="shop", namespace="edge", *, parent="public", parent_namespace=None, redirect=False, **spec):
    parent_ref = {"name": parent, **({"namespace": parent_namespace} if parent_namespace else {})}
    parent_ref.update(spec.pop("parent_fields", {}))
    rule = {"backendRefs": [{"name": "web", "port": 80}]}
    if redirect:
        to_https = {"scheme": "https", "statusCode": 301}
        rule = {"filters": [{"type": "RequestRedirect", "requestRedirect": to_https}]}
    return obj(
        "HTTPRoute",
        name,
        namespace=namespace,
        api_version="gateway.networking.k8s.io/v1",
        spec={"parentRefs": [parent_ref], "rules": [rule], **spec},
    )


def test_a_gateway_http_listener_that_serves_a_route_is_plain_http():
    [result] = findings("ingress-no-tls", _gateway(_listener()), _route())
    assert (result.kind, result.namespace, result.name) == ("Gateway", "edge", "public")
    assert result.path == "spec.listeners[0].protocol"
    assert result.value == {"listener": "http", "port": 80, "routes": ["HTTPRoute edge/shop"]}
    assert "serves HTTPRoute edge/shop over plain HTTP" in result.message


def test_an_http_listener_that_only_redirects_to_https_or_carries_nothing_passes():
    https = _listener("https", "HTTPS", 443, tls={"certificateRefs": [{"name": "shop-tls"}]})
    gateway = _gateway(_listener(), https)
    redirect = _route("to-https", redirect=True, parent_fields={"sectionName": "http"})
    served_over_tls = _route("shop", parent_fields={"sectionName": "https"})
    results = scan(gateway, redirect, served_over_tls, checks=["ingress-no-tls"])
    assert results.findings == []
    assert results.evaluated["ingress-no-tls"] == 1
    assert findings("ingress-no-tls", _gateway(_listener())) == []


def test_a_route_attaches_only_where_the_gateway_api_lets_it():
    selected = {"from": "Selector", "selector": {"matchLabels": {"gateway-access": "yes"}}}
    gateway = _gateway(
        _listener(hostname="*.example.com"),
        _listener("same-only", port=8080),
        _listener("team", port=8081, allowedRoutes={"namespaces": selected}),
    )
    elsewhere = _route("other-gateway", parent="internal")
    other_host = _route("other-host", hostnames=["shop.example.org"], parent_fields={"sectionName": "http"})
    other_port = _route("wrong-port", parent_fields={"port": 443})
    from_shop = _route("from-shop", namespace="shop", parent_namespace="edge", parent_fields={"port": 8080})
    assert findings("ingress-no-tls", gateway, elsewhere, other_host, other_port, from_shop) == []

    allowed_ns = obj("Namespace", "shop", namespace=None, metadata={"labels": {"gateway-access": "yes"}})
    team_route = _route(
        "team-route", namespace="shop", parent_namespace="edge", parent_fields={"sectionName": "team"}
    )
    [result] = findings("ingress-no-tls", gateway, allowed_ns, from_shop, team_route)
    assert result.value == {"listener": "team", "port": 8081, "routes": ["HTTPRoute shop/team-route"]}

    in_host = _route("in-host", hostnames=["shop.example.com"], parent_fields={"sectionName": "http"})
    [result] = findings("ingress-no-tls", gateway, in_host)
    assert result.value["routes"] == ["HTTPRoute edge/in-host"]


def test_a_listener_that_allows_other_route_kinds_only_carries_no_http_route():
    listener = _listener(allowedRoutes={"kinds": [{"kind": "GRPCRoute"}]})
    assert findings("ingress-no-tls", _gateway(listener), _route()) == []


def test_a_grpc_route_on_an_http_listener_is_plain_text_grpc():
    grpc = _route("orders-api", redirect=True)  # a redirect filter means nothing to gRPC
    grpc["kind"], grpc["spec"]["rules"] = "GRPCRoute", [{"backendRefs": [{"name": "orders", "port": 50051}]}]
    [result] = findings("ingress-no-tls", _gateway(_listener()), grpc, _route("to-https", redirect=True))
    assert result.value["routes"] == ["GRPCRoute edge/orders-api"]
    only_http = _listener(allowedRoutes={"kinds": [{"kind": "HTTPRoute"}]})
    assert findings("ingress-no-tls", _gateway(only_http), grpc) == []


def test_gateways_are_not_assessed_when_their_routes_could_not_be_read():
    results = scan(_gateway(_listener()), checks=["ingress-no-tls"], gaps={"HTTPRoute": "forbidden"})
    assert results.not_assessed == {"ingress-no-tls": "HTTPRoute: forbidden"}
    results = scan(_gateway(_listener()), checks=["ingress-no-tls"], gaps={"GRPCRoute": "timed out"})
    assert results.not_assessed == {"ingress-no-tls": "GRPCRoute: timed out"}


def test_an_ip_block_of_the_wrong_shape_is_judged_not_crashed_on():
    policy = obj(
        "NetworkPolicy",
        "odd",
        api_version="networking.k8s.io/v1",
        spec={"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": ["0.0.0.0/0"]}}]}]},
    )
    results = scan(policy, checks=["network-policy-allow-all"])
    assert results.errors == []
    assert results.evaluated["network-policy-allow-all"] == 1


def _tcp_route(name="pg", backend=None, parent="public"):
    backend = backend or {"name": "db", "port": 5432}
    return obj(
        "TCPRoute",
        name,
        namespace="edge",
        api_version="gateway.networking.k8s.io/v1alpha2",
        spec={"parentRefs": [{"name": parent}], "rules": [{"backendRefs": [backend]}]},
    )


def test_a_gateway_tcp_listener_routing_to_a_database_exposes_it():
    database = obj(
        "Service", "db", namespace="edge", spec={"selector": {"app": "pg"}, "ports": [{"port": 5432}]}
    )
    gateway = _gateway(_listener("pg", "TCP", 5432))
    [result] = findings("database-exposed", gateway, _tcp_route(), database)
    assert (result.kind, result.name, result.path) == ("Gateway", "public", "spec.listeners[0]")
    assert result.value["datastore"] == "PostgreSQL"
    assert result.value["route"] == "edge/pg"
    assert "Service edge/db: port 5432" in result.value["matched"]


def test_a_gateway_tcp_route_to_a_service_that_is_no_database_passes():
    web = obj(
        "Service", "web", namespace="edge", spec={"selector": {"app": "web"}, "ports": [{"port": 8443}]}
    )
    route = _tcp_route("tls", backend={"name": "web", "port": 8443})
    assert findings("database-exposed", _gateway(_listener("tls", "TCP", 443)), route, web) == []
    # An HTTP listener does not carry TCPRoutes.
    assert findings("database-exposed", _gateway(_listener()), _tcp_route()) == []


def test_a_database_port_tells_when_the_backend_service_was_not_collected():
    route = _tcp_route("cache", backend={"name": "cache", "port": 6379})
    [result] = findings("database-exposed", _gateway(_listener("redis", "TCP", 6379)), route)
    assert result.value["matched"] == "backend port 6379"


def test_gateways_are_not_assessed_for_databases_when_tcp_routes_could_not_be_read():
    results = scan(
        _gateway(_listener("pg", "TCP", 5432)), checks=["database-exposed"], gaps={"TCPRoute": "forbidden"}
    )
    assert results.not_assessed == {"database-exposed": "TCPRoute: forbidden"}


# --- Gateways: rate limits, where the implementation's own objects say -------------------------

ENVOY = "gateway.envoyproxy.io/gatewayclass-controller"


def _gateway_class(controller=ENVOY, name="eg"):
    return obj(
        "GatewayClass",
        name,
        namespace=None,
        api_version="gateway.networking.k8s.io/v1",
        spec={"controllerName": controller},
    )


def _traffic_policy(*target_refs, rate_limit=True, **spec):
    limit = {"type": "Local", "local": {"rules": [{"limit": {"requests": 20, "unit": "Second"}}]}}
    return obj(
        "BackendTrafficPolicy",
        "limits",
        namespace="edge",
        api_version="gateway.envoyproxy.io/v1alpha1",
        spec={**({"targetRefs": list(target_refs)} if target_refs else {}), **spec}
        | ({"rateLimit": limit} if rate_limit else {}),
    )


def _marked(resource, **metadata):
    resource["metadata"].update(metadata)
    return resource


def _ref(kind="Gateway", name="public", **fields):
    return {"group": "gateway.networking.k8s.io", "kind": kind, "name": name, **fields}


def test_an_envoy_gateway_serving_a_route_without_a_rate_limit_is_reported():
    gateway = _gateway(_listener("https", "HTTPS", 443))
    [result] = findings("ingress-no-rate-limit", _gateway_class(), gateway, _route())
    assert (result.kind, result.name) == ("Gateway", "public")
    assert result.value == {"controller": ENVOY, "routes": ["HTTPRoute edge/shop"]}
    assert "serves HTTPRoute edge/shop without a rate limit" in result.message


def test_a_backend_traffic_policy_on_the_gateway_its_listener_or_the_route_limits_it():
    gateway = _gateway(_listener("https", "HTTPS", 443))
    labelled = _marked(_route(), labels={"tier": "public"})
    for policy, route in (
        (_traffic_policy(_ref()), _route()),
        (_traffic_policy(_ref(sectionName="https")), _route()),
        (_traffic_policy(_ref("HTTPRoute", "shop")), _route()),
        (
            _traffic_policy(targetSelectors=[{"kind": "HTTPRoute", "matchLabels": {"tier": "public"}}]),
            labelled,
        ),
    ):
        assert findings("ingress-no-rate-limit", _gateway_class(), gateway, route, policy) == [], policy
    # A policy for another listener, or one that sets no rate limit, does not.
    for policy in (_traffic_policy(_ref(sectionName="admin")), _traffic_policy(_ref(), rate_limit=False)):
        assert len(findings("ingress-no-rate-limit", _gateway_class(), gateway, _route(), policy)) == 1


def test_a_grpc_route_and_the_older_single_target_ref_count_too():
    grpc = obj(
        "GRPCRoute",
        "orders",
        namespace="edge",
        api_version="gateway.networking.k8s.io/v1",
        spec={
            "parentRefs": [{"name": "public"}],
            "rules": [{"backendRefs": [{"name": "orders", "port": 50051}]}],
        },
    )
    gateway = _gateway(_listener("https", "HTTPS", 443))
    [result] = findings("ingress-no-rate-limit", _gateway_class(), gateway, grpc)
    assert result.value["routes"] == ["GRPCRoute edge/orders"]
    legacy = _traffic_policy(targetRef=_ref("GRPCRoute", "orders"))
    assert findings("ingress-no-rate-limit", _gateway_class(), gateway, grpc, legacy) == []


def test_kong_and_traefik_gateways_read_their_own_rate_limits():
    kong = _gateway_class("konghq.com/kic-gateway-controller", name="kong")
    plugin = obj("KongPlugin", "rl", namespace="edge", metadata={}, plugin="rate-limiting")
    annotated = _marked(_route(), annotations={"konghq.com/plugins": "rl"})
    gateway = _gateway(_listener("https", "HTTPS", 443))
    gateway["spec"]["gatewayClassName"] = "kong"
    assert findings("ingress-no-rate-limit", kong, gateway, annotated, plugin) == []
    assert len(findings("ingress-no-rate-limit", kong, gateway, _route(), plugin)) == 1

    traefik = _gateway_class("traefik.io/gateway-controller", name="eg")
    middleware = obj("Middleware", "throttle", namespace="edge", spec={"rateLimit": {"average": 50}})
    through = {
        "type": "ExtensionRef",
        "extensionRef": {"group": "traefik.io", "kind": "Middleware", "name": "throttle"},
    }
    limited = _route(rules=[{"filters": [through], "backendRefs": [{"name": "web", "port": 80}]}])
    https = _gateway(_listener("https", "HTTPS", 443))
    assert findings("ingress-no-rate-limit", traefik, https, limited, middleware) == []
    redirect = {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https"}}]}
    limited["spec"]["rules"].append(redirect)  # a rule that only redirects serves nothing to limit
    assert findings("ingress-no-rate-limit", traefik, https, limited, middleware) == []
    assert len(findings("ingress-no-rate-limit", traefik, https, _route(), middleware)) == 1


def test_gateways_of_other_implementations_are_not_evaluated_for_rate_limits():
    istio = _gateway_class("istio.io/gateway-controller")
    for objects in ((istio, _gateway(_listener()), _route()), (_gateway(_listener()), _route())):
        results = scan(*objects, checks=["ingress-no-rate-limit"])
        assert (results.findings, results.evaluated["ingress-no-rate-limit"]) == ([], 0)
        assert results.not_assessed == {}


def test_gateway_rate_limits_are_not_assessed_when_their_policies_could_not_be_read():
    gateway = _gateway(_listener("https", "HTTPS", 443))
    results = scan(
        _gateway_class(),
        gateway,
        _route(),
        checks=["ingress-no-rate-limit"],
        gaps={"BackendTrafficPolicy": "forbidden"},
    )
    assert results.not_assessed == {"ingress-no-rate-limit": "BackendTrafficPolicy: forbidden"}
    assert results.findings == []


def test_a_calico_policy_is_neither_a_kubernetes_selection_nor_an_open_one():
    # Its "selector" is Calico's expression language; read as a NetworkPolicy it would select
    # every pod (no podSelector) and allow everything (no "from").
    calico = obj(
        "NetworkPolicy",
        "allow-frontend",
        api_version="projectcalico.org/v3",
        spec={"selector": "role == 'db'", "types": ["Ingress"], "ingress": [{"action": "Allow"}]},
    )
    results = scan(deployment(name="db"), calico, checks=["no-network-policy", "network-policy-allow-all"])
    assert [(r.check_id, r.name) for r in results.findings] == [("no-network-policy", "db")]
    assert results.evaluated["network-policy-allow-all"] == 0


# --- Calico's own policies -----------------------------------------------------------------------


def _calico(kind="NetworkPolicy", name="calico", namespace="shop", **spec):
    return obj(kind, name, namespace=namespace, api_version="projectcalico.org/v3", spec=spec)


def test_a_calico_policy_isolates_the_pods_its_selector_expression_picks():
    web = deployment(name="web", labels={"app": "web", "tier": "front"})
    for selector, isolated in (
        ("app == 'web'", True),
        ("tier in {'front', 'back'} && !has(legacy)", True),
        ("", True),  # no selector: every endpoint, as all() says
        ("app == 'db'", False),
        ("app == ", False),  # unreadable: selects nothing
    ):
        policy = _calico(selector=selector, types=["Ingress"])
        assert (findings("no-network-policy", web, policy) == []) is isolated, selector
    global_policy = _calico(
        "GlobalNetworkPolicy", namespace=None, selector="app == 'web'", namespaceSelector="team == 'a'"
    )
    assert len(findings("no-network-policy", web, _namespace("shop"), global_policy)) == 1
    assert findings("no-network-policy", web, _namespace("shop", {"team": "a"}), global_policy) == []


def test_a_calico_global_default_deny_closes_every_namespace_it_selects_whole():
    deny_all = _calico(
        "GlobalNetworkPolicy",
        "default-deny",
        namespace=None,
        selector="projectcalico.org/namespace not in {'kube-system', 'calico-system'}",
        types=["Ingress", "Egress"],
    )
    shop = _namespace("shop")
    results = scan(
        shop, deployment(), deny_all, checks=["namespace-no-default-deny", "namespace-no-network-policy"]
    )
    assert results.findings == []
    # Allowing DNS out leaves egress open; a selector about the pods' own labels covers only some.
    dns = {"action": "Allow", "protocol": "UDP", "destination": {"ports": [53]}}
    with_dns = _calico(
        "GlobalNetworkPolicy",
        "deny",
        namespace=None,
        selector="all()",
        types=["Ingress", "Egress"],
        egress=[dns],
    )
    [result] = findings("namespace-no-default-deny", shop, deployment(), with_dns)
    assert result.value == ["Egress"]
    partial = _calico(selector="has(app)", types=["Ingress", "Egress"])
    assert len(findings("namespace-no-default-deny", shop, deployment(), partial)) == 1
    explicit = _calico(
        selector="all()",
        types=["Ingress", "Egress"],
        ingress=[{"action": "Deny"}],
        egress=[{"action": "Deny"}],
    )
    assert findings("namespace-no-default-deny", shop, deployment(), explicit) == []


def test_hostile_calico_selectors_are_unreadable_rather_than_fatal():
    long_chain = parse_selector("app == 'web' && " * 5000 + "all()")
    assert long_chain({"app": "web"}) is True  # a flat chain: no stack to exhaust
    assert parse_selector("(" * 20000 + "all()" + ")" * 20000) is None
    assert parse_selector("!" * 20000 + "all()") is None
    assert parse_selector(["app == 'web'"]) is None
