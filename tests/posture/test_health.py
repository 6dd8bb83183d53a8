from datetime import timedelta

import pytest
from django.utils import timezone

from posture import services
from posture.models import ConnectionMode, Snapshot
from tests.factories import as_yaml, deployment, make_cluster, scan_snapshot

pytestmark = pytest.mark.django_db


def test_liveness_answers_without_a_known_host_or_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", headers={"Host": "10.1.2.3:8000"})
    assert response.status_code == 200
    assert response.text == "ok\n"


def test_readiness_checks_the_database_and_redis(client):
    response = client.get("/readyz", headers={"Host": "10.1.2.3:8000"})
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok"}


def test_readiness_fails_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["redis"] == "down"


def test_metrics_do_not_exist_without_the_token(client, settings):
    settings.RAMPART_METRICS_TOKEN = "scrape-secret-123"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    settings.RAMPART_METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_report_scans_scores_and_open_findings(client, settings, cluster):
    settings.RAMPART_METRICS_TOKEN = "scrape-secret-123"
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
    assert response.status_code == 200
    body = response.text
    assert 'rampart_scans_total{status="succeeded",trigger="manual"} 1' in body
    assert 'rampart_open_findings{cluster="prod-eu",severity="critical",team="payments"} 1' in body
    assert 'rampart_cluster_score{cluster="prod-eu",team="payments"}' in body
    assert "# TYPE rampart_last_scan_duration_seconds gauge" in body


def test_metrics_tell_how_long_each_agent_has_not_pushed(client, settings, team):
    settings.RAMPART_METRICS_TOKEN = "scrape-secret-123"
    pushing = make_cluster(team, name="edge-agent", connection_mode=ConnectionMode.AGENT)
    make_cluster(team, name="never-pushed", connection_mode=ConnectionMode.AGENT)
    snapshot = services.store_snapshot(pushing, as_yaml(deployment("web")), source=Snapshot.Source.AGENT)
    Snapshot.objects.filter(pk=snapshot.pk).update(uploaded_at=timezone.now() - timedelta(hours=30))
    body = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"}).text
    (line,) = [line for line in body.splitlines() if line.startswith("rampart_agent_last_push_age_seconds{")]
    labels, age = line.split(" ")
    assert labels == 'rampart_agent_last_push_age_seconds{cluster="edge-agent",team="payments"}'
    assert 30 * 3600 <= int(age) < 30 * 3600 + 60
