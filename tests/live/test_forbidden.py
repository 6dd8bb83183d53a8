"""A resource type Rampart may not read becomes a coverage gap; everything else is still collected."""

from posture.scanning.collectors.live import collect
from tests.live.conftest import token_connection


def test_a_forbidden_resource_becomes_a_coverage_gap_with_the_servers_reason(serve, objects):
    kube = serve(objects, forbidden={"secrets", "rbac.authorization.k8s.io/clusterroles"})

    inventory = collect(token_connection(kube))

    assert set(inventory.coverage_gaps) == {"Secret", "ClusterRole"}
    assert inventory.coverage_gaps["Secret"] == (
        'forbidden: User "system:serviceaccount:rampart:scanner" cannot list resource "secrets" '
        'in API group "" at the cluster scope'
    )
    assert 'in API group "rbac.authorization.k8s.io"' in inventory.coverage_gaps["ClusterRole"]
    forbidden = kube.requests_to("/api/v1/secrets")[0]
    assert forbidden.status == 403
    assert b'"reason":"Forbidden"' in forbidden.body
    assert inventory.of_kind("Secret") == []
    assert inventory.of_kind("ClusterRole") == []
    assert inventory.of_kind("Deployment")
    assert inventory.of_kind("Pod")
    assert inventory.of_kind("RoleBinding")


def test_a_server_error_on_one_list_becomes_a_coverage_gap(serve, objects):
    kube = serve(objects, errors={"apps/replicasets": 503})

    inventory = collect(token_connection(kube))

    assert inventory.coverage_gaps == {
        "ReplicaSet": "the API server answered 503 Service Unavailable: fake error 503 for apps/replicasets"
    }
    assert inventory.of_kind("Deployment")
