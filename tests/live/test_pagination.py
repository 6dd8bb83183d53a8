"""Lists are read page by page with limit/continue, and every object arrives."""

from posture.scanning.collectors.live import collect, collect_with_details
from tests.live.cluster import PAGE_COUNT_PODS, count_of
from tests.live.conftest import token_connection


def test_it_reads_every_object_across_several_pages(kube, objects):
    inventory = collect(token_connection(kube), page_size=2)

    pod_requests = kube.requests_to("/api/v1/pods")
    assert len(pod_requests) == 4  # 7 pods, 2 a page
    assert "continue" not in pod_requests[0].query
    assert all(request.query.get("continue") for request in pod_requests[1:])
    assert len({request.query["continue"] for request in pod_requests[1:]}) == 3
    assert all(request.query["limit"] == "2" for request in pod_requests)
    assert len(inventory.of_kind("Pod")) == PAGE_COUNT_PODS
    assert sorted(p.name for p in inventory.of_kind("Pod")) == [f"web-5d9c7-{i:02d}" for i in range(7)]
    for kind in ("Namespace", "Deployment", "ReplicaSet", "Service", "ConfigMap", "Secret", "NetworkPolicy"):
        assert len(inventory.of_kind(kind)) == count_of(objects, kind), kind
    assert inventory.coverage_gaps == {}


def test_it_asks_for_five_hundred_objects_a_page_by_default(kube):
    collect(token_connection(kube))

    lists = [request for request in kube.requests if request.query]
    assert lists
    assert {request.query["limit"] for request in lists} == {"500"}


def test_it_sets_kind_and_api_version_on_list_items_that_arrive_without_them(kube):
    inventory = collect(token_connection(kube))

    deployment_list = kube.requests_to("/apis/apps/v1/deployments")[0].body
    assert b'"kind":"DeploymentList"' in deployment_list
    assert b'"kind":"Deployment"' not in deployment_list  # real list items carry no kind
    (deployment,) = inventory.of_kind("Deployment")
    assert deployment.raw["kind"] == "Deployment"
    assert deployment.raw["apiVersion"] == "apps/v1"
    (namespace, *_) = inventory.of_kind("Namespace")
    assert namespace.raw["apiVersion"] == "v1"


def test_it_reads_the_server_version_and_names_its_source(kube):
    result = collect_with_details(token_connection(kube))

    assert result.inventory.server_version["gitVersion"] == "v1.31.4"
    assert result.inventory.source == f"live {kube.url} (API URL and bearer token)"
    assert result.requests == len(kube.requests)
    assert kube.requests[0].path == "/version"
