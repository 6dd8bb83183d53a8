"""POST /api/v1/clusters/{id}/pause/ and /resume/: team admins pause a cluster's scans and resume them;
the cluster carries ``paused`` (who, when, why; null when not paused); a scan of a paused cluster is a
409 that says so."""

from datetime import timedelta

import pytest
import yaml
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import ApiToken
from posture import pausing, schedules
from posture.models import Cluster, Scan
from tests.api.helpers import assert_error
from tests.factories import make_cluster

pytestmark = pytest.mark.django_db


def pause_url(cluster) -> str:
    return f"/api/v1/clusters/{cluster.pk}/pause/"


def resume_url(cluster) -> str:
    return f"/api/v1/clusters/{cluster.pk}/resume/"


def test_a_cluster_that_is_not_paused_says_paused_null(api, viewer, cluster):
    assert api(viewer).get(f"/api/v1/clusters/{cluster.pk}/").json()["paused"] is None


def test_an_admin_pauses_with_a_reason_and_every_member_reads_who_when_and_why(api, admin_user, viewer, team):
    cluster = make_cluster(team, name="hourly", scan_interval_minutes=60)

    response = api(admin_user).post(pause_url(cluster), {"reason": "node pool rebuild"})

    assert response.status_code == 200, response.json()
    paused = response.json()["paused"]
    assert set(paused) == {"paused_at", "paused_by", "pause_reason", "paused_until"}
    assert paused["paused_until"] is None  # until resumed by hand
    assert (paused["paused_by"], paused["pause_reason"]) == ("ada", "node pool rebuild")
    assert response.json()["scan_interval_minutes"] == 60  # the schedule is kept
    listed = api(viewer).get("/api/v1/clusters/").json()["results"]
    assert [row["paused"] for row in listed] == [paused]
    task = PeriodicTask.objects.get(name=schedules.schedule_name(cluster))
    assert not task.enabled


def test_an_admin_resumes_and_the_schedule_runs_again(api, admin_user, team):
    cluster = make_cluster(team, name="hourly", scan_interval_minutes=60)
    api(admin_user).post(pause_url(cluster))

    response = api(admin_user).post(resume_url(cluster))

    assert response.status_code == 200, response.json()
    assert response.json()["paused"] is None
    assert response.json()["scan_interval_minutes"] == 60
    assert PeriodicTask.objects.get(name=schedules.schedule_name(cluster)).enabled


def test_pausing_without_a_body_pauses_without_a_reason(api, admin_user, cluster):
    response = api(admin_user).post(pause_url(cluster))
    assert response.status_code == 200
    assert response.json()["paused"]["pause_reason"] == ""


def test_pausing_again_or_resuming_a_running_cluster_changes_nothing(api, admin_user, cluster):
    first = api(admin_user).post(pause_url(cluster), {"reason": "first"}).json()["paused"]
    again = api(admin_user).post(pause_url(cluster), {"reason": "second"})
    assert again.status_code == 200
    assert again.json()["paused"] == first
    api(admin_user).post(resume_url(cluster))
    assert api(admin_user).post(resume_url(cluster)).json()["paused"] is None


def test_viewers_engineers_and_read_only_tokens_cannot_pause_or_resume(
    api, viewer, engineer, admin_user, cluster
):
    for client in (api(viewer), api(engineer), api(admin_user, ApiToken.Scope.READ)):
        assert_error(client.post(pause_url(cluster), {"reason": "no"}), 403, "permission_denied")
    pausing.pause_cluster(cluster, actor=admin_user)
    for client in (api(viewer), api(engineer), api(admin_user, ApiToken.Scope.READ)):
        assert_error(client.post(resume_url(cluster)), 403, "permission_denied")
    assert Cluster.objects.get(pk=cluster.pk).is_paused


def test_another_team_s_cluster_cannot_be_paused_or_resumed(api, outsider, cluster):
    assert_error(api(outsider).post(pause_url(cluster)), 404, "not_found")
    assert_error(api(outsider).post(resume_url(cluster)), 404, "not_found")
    assert not Cluster.objects.get(pk=cluster.pk).is_paused


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"reason": "x" * 201}, "Ensure this field has no more than 200 characters."),
        ({"reason": ["a", "list"]}, "Not a valid string."),
        ({"reason": "rebuild\u202e"}, "The reason may not contain invisible or text-direction characters."),
        ({"reason": "nul\u0000"}, None),  # refused by the parser: PostgreSQL stores no NUL
    ],
)
def test_a_reason_that_cannot_be_stored_is_a_400_and_nothing_is_paused(
    api, admin_user, cluster, body, message
):
    error = assert_error(api(admin_user).post(pause_url(cluster), body), 400)
    if message:
        assert error["fields"]["reason"] == [message]
    assert not Cluster.objects.get(pk=cluster.pk).is_paused


def test_a_body_that_is_not_an_object_is_a_400(api, admin_user, cluster):
    assert_error(api(admin_user).post(pause_url(cluster), ["reason"]), 400)
    assert not Cluster.objects.get(pk=cluster.pk).is_paused


def test_a_scan_of_a_paused_cluster_is_a_409_that_says_to_resume_it_first(api, engineer, admin_user, scanned):
    pausing.pause_cluster(scanned, actor=admin_user, reason="rebuild")

    error = assert_error(api(engineer).post(f"/api/v1/clusters/{scanned.pk}/scan/"), 409, "conflict")

    assert error["message"].startswith("Scanning prod-eu is paused (since ")
    assert error["message"].endswith("by ada: rebuild): a team admin must resume it first.")
    assert Scan.objects.filter(cluster=scanned).count() == 1


def test_changing_a_paused_cluster_s_settings_keeps_it_paused(api, admin_user, cluster):
    api(admin_user).post(pause_url(cluster), {"reason": "rebuild"})
    response = api(admin_user).patch(f"/api/v1/clusters/{cluster.pk}/", {"scan_interval_minutes": 30})
    assert response.status_code == 200, response.json()
    assert response.json()["paused"]["pause_reason"] == "rebuild"


def test_paused_is_read_only_in_a_cluster_s_body(api, admin_user, cluster):
    response = api(admin_user).patch(f"/api/v1/clusters/{cluster.pk}/", {"paused": {"pause_reason": "x"}})
    assert response.status_code == 200
    assert response.json()["paused"] is None


def test_the_schema_documents_both_actions_and_paused_as_nullable(client):
    schema = yaml.safe_load(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi").content)
    for path in ("/api/v1/clusters/{id}/pause/", "/api/v1/clusters/{id}/resume/"):
        operation = schema["paths"][path]["post"]
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Cluster"
        }
    pause_body = schema["paths"]["/api/v1/clusters/{id}/pause/"]["post"]["requestBody"]
    reason = schema["components"]["schemas"]["ClusterPauseRequest"]["properties"]["reason"]
    assert reason["maxLength"] == 200
    assert pause_body["content"]["application/json"]["schema"]["$ref"].endswith("/ClusterPauseRequest")
    paused = schema["components"]["schemas"]["Cluster"]["properties"]["paused"]
    assert paused["nullable"] is True
    assert set(schema["components"]["schemas"]["Pause"]["properties"]) == {
        "paused_at",
        "paused_by",
        "pause_reason",
        "paused_until",
    }


def test_a_pause_may_end_by_itself_and_an_end_in_the_past_is_refused(api, admin_user, cluster):
    refused = api(admin_user).post(pause_url(cluster), {"until": "2020-01-01T00:00:00Z"})
    assert assert_error(refused, 400, "invalid")["fields"] == {"until": ["The pause must end in the future."]}
    end = "2099-01-01T00:00:00Z"
    far = api(admin_user).post(pause_url(cluster), {"until": end})
    assert "at most a year from now" in assert_error(far, 400, "invalid")["fields"]["until"][0]

    soon = (timezone.now() + timedelta(hours=4)).replace(microsecond=0)
    paused = api(admin_user).post(pause_url(cluster), {"until": soon.isoformat()})
    assert paused.status_code == 200, paused.json()
    assert paused.json()["paused"]["paused_until"] == soon.isoformat().replace("+00:00", "Z")
