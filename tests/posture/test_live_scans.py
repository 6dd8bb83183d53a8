"""Scans of live clusters through the services, against the project's fake API server over HTTPS."""

import logging

import pytest

from findings.models import Finding
from posture import services
from posture.models import ConnectionMode, ScanStatus
from tests.factories import deployment, make_cluster

pytestmark = pytest.mark.django_db


def token_cluster(team, kube, token=None):
    cluster = make_cluster(
        team, name="live-prod", connection_mode=ConnectionMode.TOKEN, api_url=kube.url, ca_bundle=kube.ca_pem
    )
    return services.save_cluster(cluster, credentials=token or kube.token)


def scan(cluster):
    return services.run_scan(services.start_scan(cluster, enqueue=False).pk)


def test_a_live_token_cluster_is_scanned_over_https(team, serve):
    kube = serve([deployment("web", privileged=True)])
    result = scan(token_cluster(team, kube))
    assert result.status == ScanStatus.SUCCEEDED, result.error
    assert result.server_version
    assert Finding.objects.filter(check_id="privileged-container", name="web").exists()


def test_a_forbidden_resource_type_makes_the_scan_partial_and_resolves_nothing_it_needs(team, serve):
    kube = serve([deployment("web", privileged=True)])
    cluster = token_cluster(team, kube)
    assert scan(cluster).status == ScanStatus.SUCCEEDED
    kube.stop()
    forbidding = serve(
        [], forbidden={"apps/deployments"}, tokens={kube.token: "system:serviceaccount:rampart:scanner"}
    )
    cluster.api_url, cluster.ca_bundle = forbidding.url, forbidding.ca_pem
    services.save_cluster(cluster)
    partial = scan(cluster)
    assert partial.status == ScanStatus.PARTIAL
    assert "Deployment" in partial.coverage_gaps
    assert "forbidden" in partial.coverage_gaps["Deployment"].lower()
    assert partial.resolved_count == 0
    assert Finding.objects.get(check_id="privileged-container", name="web").status == "open"


def test_a_bad_token_fails_the_scan_with_a_reason_and_never_shows_the_token(team, serve, caplog):
    kube = serve([deployment("web")])
    wrong = "wrong-token-0123456789-abcdefghijklmnop"
    caplog.set_level(logging.DEBUG)
    result = scan(token_cluster(team, kube, token=wrong))
    assert result.status == ScanStatus.FAILED
    assert "401" in result.error
    assert wrong not in result.error
    assert wrong not in caplog.text


def test_an_unreachable_cluster_is_retried_then_fails_with_one_line(team, serve, settings):
    settings.RAMPART_SCAN_RETRY_DELAYS = [0]
    kube = serve([])
    cluster = token_cluster(team, kube)
    kube.stop()
    result = scan(cluster)
    assert result.status == ScanStatus.FAILED
    assert "connection refused" in result.error
    assert "\n" not in result.error
