"""A resource whose API group or version the cluster does not serve is a coverage gap, not an error."""

from posture.scanning.collectors.live import RESOURCE_TYPES, ResourceType, collect
from tests.live.conftest import token_connection


def test_a_group_missing_from_discovery_is_a_coverage_gap_and_is_not_requested(serve, objects):
    kube = serve(objects, missing_groups={"networking.k8s.io"})

    inventory = collect(token_connection(kube))

    reason = "API group not served: networking.k8s.io is not available on this cluster"
    assert inventory.coverage_gaps == {"NetworkPolicy": reason, "Ingress": reason}
    assert not [r for r in kube.requests if r.path.startswith("/apis/networking.k8s.io")]
    assert inventory.of_kind("Deployment")


def test_a_list_answering_404_is_a_coverage_gap(kube):
    missing = ResourceType("apps", "v1", "frobnicators", "Frobnicator", True)

    inventory = collect(token_connection(kube), resource_types=(*RESOURCE_TYPES, missing))

    assert inventory.coverage_gaps == {
        "Frobnicator": "not served by this cluster (apps/v1 frobnicators: 404 Not Found)"
    }
    assert kube.requests_to("/apis/apps/v1/frobnicators")[0].status == 404


def test_a_version_the_cluster_does_not_serve_is_a_coverage_gap(kube):
    old = ResourceType("batch", "v1beta1", "cronjobs", "CronJob", True)

    inventory = collect(token_connection(kube), resource_types=(old,))

    assert inventory.coverage_gaps == {
        "CronJob": "API version not served: batch/v1beta1 is not available (the cluster serves v1)"
    }


def test_secret_manager_groups_that_are_not_installed_are_not_gaps(kube):
    inventory = collect(token_connection(kube))

    assert inventory.coverage_gaps == {}
    assert not [r for r in kube.requests if "external-secrets.io" in r.path or "bitnami.com" in r.path]
