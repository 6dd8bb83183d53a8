import gzip
import io

import pytest
from django.test import override_settings

from accounts.models import ApiToken
from findings.models import Finding
from posture import services
from posture.api.errors import PayloadTooLarge
from posture.api.parsers import read_limited
from posture.models import AgentPush, IngestToken, Scan, Snapshot
from tests.api.helpers import assert_error, token_for
from tests.factories import as_json_list, deployment, make_cluster

pytestmark = pytest.mark.django_db

SNAPSHOT = gzip.compress(as_json_list(deployment("web", privileged=True)))


def _push(client, cluster, raw, body=SNAPSHOT, **headers):
    headers = {"Authorization": f"Bearer {raw}", **headers}
    return client.post(
        f"/api/v1/clusters/{cluster.pk}/snapshots", body, content_type="application/gzip", headers=headers
    )


def test_a_push_stores_the_snapshot_and_queues_an_agent_scan(
    client, agent_cluster, ingest_token, django_capture_on_commit_callbacks
):
    token, raw, _ = ingest_token
    with django_capture_on_commit_callbacks(execute=True):
        response = _push(client, agent_cluster, raw)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["scan"]["trigger"] == "agent"
    assert Snapshot.objects.get(pk=body["snapshot"]).source == "agent"
    assert Scan.objects.get(pk=body["scan"]["id"]).status == "succeeded"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_repeated_idempotency_key_returns_the_first_answer_without_a_second_scan(
    client, agent_cluster, ingest_token, django_capture_on_commit_callbacks
):
    _, raw, _ = ingest_token
    with django_capture_on_commit_callbacks(execute=True):
        first = _push(client, agent_cluster, raw, **{"Idempotency-Key": "push-2026-11-26-0001"})
    again = _push(client, agent_cluster, raw, **{"Idempotency-Key": "push-2026-11-26-0001"})
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Scan.objects.filter(cluster=agent_cluster).count() == 1
    assert Snapshot.objects.filter(cluster=agent_cluster).count() == 1
    other = _push(client, agent_cluster, raw, **{"Idempotency-Key": "push-2026-11-26-0002"})
    assert other.status_code == 202
    assert Scan.objects.filter(cluster=agent_cluster).count() == 2


def test_a_refused_push_is_remembered_under_its_key_too(client, agent_cluster, ingest_token):
    _, raw, _ = ingest_token
    headers = {"Idempotency-Key": "bad-push-000001"}
    assert_error(_push(client, agent_cluster, raw, body=b"not a snapshot", **headers), 400, "invalid")
    again = _push(client, agent_cluster, raw, body=b"not a snapshot", **headers)
    assert_error(again, 400, "invalid")
    assert again["Idempotent-Replayed"] == "true"
    assert AgentPush.objects.get().status_code == 400
    assert not Scan.objects.exists()


def test_a_key_used_again_for_a_different_body_is_refused_not_answered_with_the_first_answer(
    client, agent_cluster, ingest_token, django_capture_on_commit_callbacks
):
    _, raw, _ = ingest_token
    headers = {"Idempotency-Key": "push-2026-11-27-0001"}
    with django_capture_on_commit_callbacks(execute=True):
        assert _push(client, agent_cluster, raw, **headers).status_code == 202
    other = gzip.compress(as_json_list(deployment("api", privileged=True)))
    error = assert_error(
        _push(client, agent_cluster, raw, body=other, **headers), 422, "idempotency_key_reused"
    )
    assert "different request" in error["message"]
    assert Snapshot.objects.filter(cluster=agent_cluster).count() == 1
    assert Scan.objects.filter(cluster=agent_cluster).count() == 1
    # The same for a refused first push: its answer is for its own body only.
    headers = {"Idempotency-Key": "push-2026-11-27-0002"}
    assert_error(_push(client, agent_cluster, raw, body=b"not a snapshot", **headers), 400, "invalid")
    assert_error(_push(client, agent_cluster, raw, **headers), 422, "idempotency_key_reused")


def test_an_ingest_token_only_pushes_to_its_own_cluster(client, agent_cluster, ingest_token, team):
    _, raw, _ = ingest_token
    other = make_cluster(team, name="other-agent", connection_mode="agent")
    error = assert_error(_push(client, other, raw), 403, "permission_denied")
    assert error["message"] == (
        f"This ingest token belongs to cluster {agent_cluster.pk}, not {other.pk}: "
        f"push with --cluster-id {agent_cluster.pk} (RAMPART_CLUSTER_ID)."
    )
    assert not Snapshot.objects.exists()


def test_an_ingest_token_authorizes_nothing_else(client, agent_cluster, ingest_token):
    _, raw, _ = ingest_token
    headers = {"Authorization": f"Bearer {raw}"}
    for url in (
        "/api/v1/clusters/",
        f"/api/v1/clusters/{agent_cluster.pk}/",
        "/api/v1/findings/",
        "/api/v1/summary/",
    ):
        assert_error(client.get(url, headers=headers), 401)
    assert_error(client.post(f"/api/v1/clusters/{agent_cluster.pk}/scan/", headers=headers), 401)


def test_personal_tokens_and_sessions_cannot_push(client, agent_cluster, admin_user):
    assert_error(_push(client, agent_cluster, token_for(admin_user, ApiToken.Scope.WRITE)), 401)
    client.force_login(admin_user)
    response = client.post(
        f"/api/v1/clusters/{agent_cluster.pk}/snapshots", SNAPSHOT, content_type="application/gzip"
    )
    assert_error(response, 401, "not_authenticated")


def test_a_revoked_or_wrong_token_is_refused(client, agent_cluster, ingest_token):
    token, raw, _ = ingest_token
    assert_error(_push(client, agent_cluster, raw[:-3] + "abc"), 401, "authentication_failed")
    token.revoke()
    assert_error(_push(client, agent_cluster, raw), 401, "authentication_failed")


@override_settings(RAMPART_MAX_SNAPSHOT_BYTES=2048)
def test_a_snapshot_over_the_limit_is_refused_by_its_declared_length(client, agent_cluster, ingest_token):
    _, raw, _ = ingest_token
    error = assert_error(_push(client, agent_cluster, raw, body=b"\x1f\x8b" + b"0" * 5000), 413, "too_large")
    assert "limit" in error["message"]
    assert not Snapshot.objects.exists()


def test_a_body_without_a_declared_length_is_cut_off_while_reading():
    with pytest.raises(PayloadTooLarge):
        read_limited(io.BytesIO(b"x" * 5000), 4096, None)
    assert read_limited(io.BytesIO(b"x" * 4096), 4096, None) == b"x" * 4096


@override_settings(RAMPART_MAX_SNAPSHOT_BYTES=16384)
def test_a_gzip_bomb_is_refused(client, agent_cluster, ingest_token):
    _, raw, _ = ingest_token
    bomb = gzip.compress(b"{" + b" " * 10_000_000 + b"}")
    assert len(bomb) < 16384
    assert_error(_push(client, agent_cluster, raw, body=bomb), 400, "invalid")


def test_bad_snapshots_and_keys_are_clear_errors(client, agent_cluster, ingest_token):
    _, raw, _ = ingest_token
    assert_error(_push(client, agent_cluster, raw, body=b""), 400, "invalid")
    assert_error(_push(client, agent_cluster, raw, body=gzip.compress(b"{}")), 400, "invalid")
    assert_error(_push(client, agent_cluster, raw, **{"Idempotency-Key": "short"}), 400, "invalid")
    assert_error(_push(client, agent_cluster, raw, **{"Idempotency-Key": "has spaces in it"}), 400)


def test_a_cluster_rampart_reads_directly_refuses_pushes(client, team):
    cluster = make_cluster(team, name="direct")
    cluster.connection_mode = "in_cluster"
    cluster.save()
    _, raw = IngestToken.issue(cluster, "agent")
    error = assert_error(_push(client, cluster, raw), 409, "conflict")
    assert "agent" in error["message"]


def test_a_snapshot_pushed_while_a_scan_runs_is_scanned_when_that_scan_ends(
    client, agent_cluster, ingest_token, django_capture_on_commit_callbacks
):
    # Before, it waited for a next scan that, on an agent cluster, only the next push would start
    # (with its own snapshot): what the agent was told would be read never was.
    _, raw, _ = ingest_token
    earlier = services.store_snapshot(agent_cluster, gzip.compress(as_json_list(deployment("old"))))
    running = services.start_scan(agent_cluster, trigger="agent", snapshot=earlier, enqueue=False)
    error = assert_error(_push(client, agent_cluster, raw), 409, "conflict")
    with django_capture_on_commit_callbacks(execute=True):
        services.run_scan(running.pk)
    follow_up = Scan.objects.filter(cluster=agent_cluster).exclude(pk=running.pk).get()
    assert follow_up.snapshot_id == error["snapshot"]
    assert follow_up.trigger == "agent"
    assert follow_up.status == "succeeded", follow_up.error
    agent_cluster.refresh_from_db()
    assert agent_cluster.last_scan_id == follow_up.pk
    assert Finding.objects.filter(cluster=agent_cluster, name="web", status="open").exists()


def test_a_push_while_a_scan_runs_keeps_the_snapshot_for_the_next_scan(client, agent_cluster, ingest_token):
    _, raw, _ = ingest_token
    Scan.objects.create(cluster=agent_cluster, status="running", created_at="2026-01-01T00:00:00Z")
    error = assert_error(_push(client, agent_cluster, raw), 409, "conflict")
    assert Snapshot.objects.filter(pk=error["snapshot"]).exists()


def test_admins_issue_list_and_revoke_ingest_tokens_shown_once(client, admin_user, engineer, agent_cluster):
    admin = {"Authorization": f"Bearer {token_for(admin_user)}"}
    issued = client.post(
        f"/api/v1/clusters/{agent_cluster.pk}/ingest-tokens/",
        {"name": "cron"},
        content_type="application/json",
        headers=admin,
    )
    assert issued.status_code == 201
    raw = issued.json()["token"]
    assert raw.startswith("rpi_")
    listed = client.get(f"/api/v1/clusters/{agent_cluster.pk}/ingest-tokens/", headers=admin)
    assert raw not in listed.content.decode()
    assert listed.json()[0]["prefix"] == raw[: len(listed.json()[0]["prefix"])]
    token = IngestToken.objects.get()
    assert raw.split("_", 2)[2] not in token.secret_hash
    engineer_headers = {"Authorization": f"Bearer {token_for(engineer)}"}
    assert_error(
        client.get(f"/api/v1/clusters/{agent_cluster.pk}/ingest-tokens/", headers=engineer_headers), 403
    )
    revoked = client.delete(f"/api/v1/clusters/{agent_cluster.pk}/ingest-tokens/{token.pk}/", headers=admin)
    assert revoked.status_code == 204
    assert_error(_push(client, agent_cluster, raw), 401)


def test_no_ingest_token_is_issued_for_a_cluster_rampart_reads_itself(client, admin_user, cluster):
    cluster.connection_mode = "kubeconfig"
    cluster.save(update_fields=["connection_mode"])
    refused = client.post(
        f"/api/v1/clusters/{cluster.pk}/ingest-tokens/",
        {"name": "cron"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(admin_user)}"},
    )
    error = assert_error(refused, 409)
    assert "set its connection mode to agent or snapshot" in error["message"]
    assert not IngestToken.objects.exists()
