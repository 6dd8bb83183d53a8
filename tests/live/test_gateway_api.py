"""Gateways and HTTPRoutes are read from a cluster that serves the Gateway API, and judged."""

from posture.scanning import engine
from posture.scanning.collectors.live import collect_with_details, test_connection
from tests.live.conftest import token_connection

GATEWAY = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "Gateway",
    "metadata": {"name": "public", "namespace": "shop"},
    "spec": {"gatewayClassName": "eg", "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]},
}
ROUTE = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "HTTPRoute",
    "metadata": {"name": "storefront", "namespace": "shop"},
    "spec": {"parentRefs": [{"name": "public"}], "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]},
}


TCP_ROUTE = {
    "apiVersion": "gateway.networking.k8s.io/v1alpha2",
    "kind": "TCPRoute",
    "metadata": {"name": "pg", "namespace": "shop"},
    "spec": {"parentRefs": [{"name": "public"}], "rules": [{"backendRefs": [{"name": "db", "port": 5432}]}]},
}


def test_a_gateway_serving_plain_http_is_found_over_the_api(serve, objects):
    kube = serve([*objects, GATEWAY, ROUTE, TCP_ROUTE])

    result = collect_with_details(token_connection(kube))

    assert "gateway.networking.k8s.io" in result.api_groups
    assert [r.name for r in result.inventory.of_kind("HTTPRoute")] == ["storefront"]
    # The experimental channel's TCPRoute is read at the version the cluster serves.
    assert [r.raw["apiVersion"] for r in result.inventory.of_kind("TCPRoute")] == [
        "gateway.networking.k8s.io/v1alpha2"
    ]
    assert result.inventory.coverage_gaps == {}
    findings = engine.run(result.inventory).findings
    found = [r for r in findings if r.check_id == "ingress-no-tls" and r.kind == "Gateway"]
    assert [(r.name, r.value["routes"]) for r in found] == [("public", ["HTTPRoute shop/storefront"])]


def test_a_cluster_without_the_gateway_api_lacks_nothing_rampart_needs(serve, objects):
    kube = serve(objects)

    report = test_connection(token_connection(kube))

    access = {item.plural: item.status for item in report.resources}
    assert {access[plural] for plural in ("gateways", "httproutes", "grpcroutes", "tcproutes")} == {
        "not_installed"
    }
    assert report.ok
