import pytest
from django.utils import timezone

from accounts.models import ApiToken
from posture.models import Scan
from tests.factories import as_yaml, deployment, make_cluster, scan_snapshot

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def scanned(cluster):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    return cluster


def test_a_token_lists_clusters_scans_and_findings_of_its_teams(client, viewer, scanned, other_team):
    scan_snapshot(make_cluster(other_team, name="foreign"), as_yaml(deployment("x", privileged=True)))
    _, raw = ApiToken.issue(viewer, "ci")
    clusters = client.get("/api/v1/clusters/", headers=bearer(raw)).json()
    assert [c["name"] for c in clusters["results"]] == ["prod-eu"]
    assert clusters["results"][0]["last_scan"]["grade"]
    scans = client.get("/api/v1/scans/", headers=bearer(raw)).json()
    assert scans["count"] == 1
    findings = client.get("/api/v1/findings/?severity=critical", headers=bearer(raw)).json()
    assert [(f["check_id"], f["name"]) for f in findings["results"]] == [("privileged-container", "web")]


def test_the_token_is_stored_hashed_with_a_recognisable_prefix(viewer):
    token, raw = ApiToken.issue(viewer, "ci")
    assert raw.startswith("rpt_")
    assert raw.split("_", 2)[2] not in token.secret_hash
    assert token.secret_hash == ApiToken.hash_secret(raw.split("_", 2)[2])


def test_a_wrong_expired_or_revoked_token_is_refused_with_one_error_format(client, viewer):
    token, raw = ApiToken.issue(viewer, "ci")
    for header in (raw[:-2] + "xx", "rpt_nothing", "garbage"):
        response = client.get("/api/v1/clusters/", headers=bearer(header))
        assert response.status_code == 401
        assert set(response.json()) == {"error"}
        assert response.json()["error"]["code"] == "authentication_failed"
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert client.get("/api/v1/clusters/", headers=bearer(raw)).status_code == 401


def test_anonymous_requests_are_refused(client):
    response = client.get("/api/v1/findings/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_read_only_token_cannot_start_a_scan(client, engineer, cluster):
    _, raw = ApiToken.issue(engineer, "dashboards", scope=ApiToken.Scope.READ)
    response = client.post(f"/api/v1/clusters/{cluster.pk}/scan/", headers=bearer(raw))
    assert response.status_code == 403
    assert not Scan.objects.exists()


def test_a_write_token_starts_a_scan_and_a_second_one_conflicts(client, engineer, scanned):
    _, raw = ApiToken.issue(engineer, "ci", scope=ApiToken.Scope.WRITE)
    Scan.objects.filter(cluster=scanned).delete()
    first = client.post(f"/api/v1/clusters/{scanned.pk}/scan/", headers=bearer(raw))
    assert first.status_code == 202
    assert first.json()["status"] == "queued"
    second = client.post(f"/api/v1/clusters/{scanned.pk}/scan/", headers=bearer(raw))
    assert second.status_code == 409
    assert "already queued or running" in second.json()["error"]["message"]


def test_another_teams_finding_is_not_found_by_id(client, outsider, scanned):
    finding_id = scanned.findings.first().pk
    _, raw = ApiToken.issue(outsider, "t")
    response = client.get(f"/api/v1/findings/{finding_id}/", headers=bearer(raw))
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_credentials_are_never_returned(client, admin_user, cluster):
    cluster.set_credentials("super-secret-token-value")
    cluster.save()
    _, raw = ApiToken.issue(admin_user, "t")
    body = client.get(f"/api/v1/clusters/{cluster.pk}/", headers=bearer(raw)).text
    assert "super-secret-token-value" not in body
    assert cluster.credentials_encrypted not in body
    assert '"has_credentials":true' in body
