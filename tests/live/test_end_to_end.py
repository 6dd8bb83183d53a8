"""From a (fake) live cluster to findings: collect over HTTPS, then run the checks."""

from posture.scanning import engine
from posture.scanning.collectors.live import collect
from tests.live.conftest import token_connection


def test_a_live_scan_finds_the_privileged_container_of_a_fixture_deployment(kube):
    inventory = collect(token_connection(kube), page_size=3)

    results = engine.run(inventory)

    privileged = [f for f in results.findings if f.check_id == "privileged-container"]
    # Once, on the Deployment: its ReplicaSet and Pods were collected and defer to it.
    assert [(f.kind, f.namespace, f.name, f.container) for f in privileged] == [
        ("Deployment", "shop", "web", "web")
    ]
    assert privileged[0].path == "spec.template.spec.containers[0].securityContext.privileged"
    assert inventory.of_kind("Pod")
    assert results.coverage_gaps == {}
