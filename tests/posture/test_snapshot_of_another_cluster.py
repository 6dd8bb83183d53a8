"""A snapshot of another cluster is refused, not scanned as this one.

Scanned, it would resolve every finding of the right cluster (undoing assignees and accepted risks
when they reopen) and file the other cluster's objects under this one. The kube-system namespace's
uid tells clusters apart; a rebuilt cluster is accepted by a team admin.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEvent
from findings.models import Finding
from posture import services
from posture.models import ConnectionMode, Scan, Snapshot
from tests.api.helpers import Api, assert_error, token_for
from tests.factories import as_yaml, deployment, make_cluster, scan_snapshot

pytestmark = pytest.mark.django_db

PROD_UID = "6c2b0d7e-1f3a-4e55-9a1d-2f7c8b9e0a11"
STAGING_UID = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"


def kube_system(uid: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "uid": uid}}


def snapshot_of(uid: str | None, *objects: dict) -> bytes:
    workloads = objects or (deployment("web", privileged=True),)
    return as_yaml(*([kube_system(uid)] if uid else []), *workloads)


def upload(client, cluster, data: bytes):
    return client.post(
        reverse("posture:cluster-snapshot", args=[cluster.pk]),
        {"file": SimpleUploadedFile("cluster.yaml", data)},
        follow=True,
    )


def answer_url(cluster) -> str:
    return reverse("posture:cluster-other-cluster", args=[cluster.pk])


@pytest.fixture
def scanned_prod(cluster):
    """A cluster with one scan of its own snapshot behind it, and its open finding."""
    scan_snapshot(cluster, snapshot_of(PROD_UID))
    cluster.refresh_from_db()
    return cluster


def test_the_first_snapshot_with_a_kube_system_namespace_names_the_cluster(scanned_prod):
    assert scanned_prod.kube_system_uid == PROD_UID


def test_an_upload_of_another_cluster_is_refused_and_changes_no_finding(client, engineer, scanned_prod):
    open_findings = Finding.objects.filter(cluster=scanned_prod, status="open")
    open_before = set(open_findings.values_list("pk", flat=True))
    assert open_before
    client.force_login(engineer)
    other = snapshot_of(STAGING_UID, deployment("api", namespace="staging", privileged=True))
    page = upload(client, scanned_prod, other).text
    assert f"Snapshot rejected: it was taken of another cluster than {scanned_prod.name}" in page
    assert STAGING_UID in page
    assert PROD_UID in page
    assert Snapshot.objects.filter(cluster=scanned_prod).count() == 1
    assert Scan.objects.filter(cluster=scanned_prod).count() == 1
    assert set(open_findings.values_list("pk", flat=True)) == open_before
    assert not Finding.objects.filter(namespace="staging").exists()
    # The page says so after the message is gone, with who may accept it.
    again = client.get(reverse("posture:cluster-detail", args=[scanned_prod.pk])).text
    assert "A snapshot of another cluster was refused" in again
    assert "A team admin can accept it or dismiss this here." in again
    assert "accept the new cluster</button>" not in again


def test_snapshots_without_kube_system_are_taken_whatever_the_cluster(scanned_prod):
    snapshot = services.store_snapshot(scanned_prod, snapshot_of(None, deployment("api")))
    assert snapshot.pk
    scanned_prod.refresh_from_db()
    assert scanned_prod.kube_system_uid == PROD_UID


def test_a_snapshot_of_the_right_cluster_after_a_refusal_clears_it(client, engineer, scanned_prod):
    client.force_login(engineer)
    upload(client, scanned_prod, snapshot_of(STAGING_UID))
    page = upload(client, scanned_prod, snapshot_of(PROD_UID)).text
    assert "Snapshot uploaded." in page
    assert "A snapshot of another cluster was refused" not in page
    scanned_prod.refresh_from_db()
    assert (scanned_prod.kube_system_uid, scanned_prod.other_kube_system_uid) == (PROD_UID, "")


def test_a_team_admin_accepts_a_rebuilt_cluster_and_its_next_snapshot_is_scanned(
    client, admin_user, scanned_prod
):
    client.force_login(admin_user)
    upload(client, scanned_prod, snapshot_of(STAGING_UID))
    page = client.get(reverse("posture:cluster-detail", args=[scanned_prod.pk])).text
    assert "It was rebuilt: accept the new cluster" in page
    accepted = client.post(answer_url(scanned_prod), {"decision": "accept"}, follow=True).text
    assert f"the cluster whose kube-system uid is {STAGING_UID}" in accepted
    assert "A snapshot of another cluster was refused" not in accepted
    event = AuditEvent.objects.get(action="cluster.identity_accepted")
    assert event.actor == admin_user
    assert event.details["other_kube_system_uid"] == STAGING_UID
    assert event.details["kube_system_uid"] == PROD_UID
    rebuilt = upload(client, scanned_prod, snapshot_of(STAGING_UID)).text
    assert "Snapshot uploaded." in rebuilt
    assert Scan.objects.filter(cluster=scanned_prod).count() == 2


def test_a_team_admin_dismisses_a_mistaken_snapshot_and_the_cluster_keeps_its_identity(
    client, admin_user, scanned_prod
):
    client.force_login(admin_user)
    upload(client, scanned_prod, snapshot_of(STAGING_UID))
    dismissed = client.post(answer_url(scanned_prod), {"decision": "dismiss"}, follow=True).text
    assert f"Dismissed: {scanned_prod.name} keeps its identity, and the other cluster is refused again." in (
        dismissed
    )
    assert "A snapshot of another cluster was refused" not in dismissed
    assert AuditEvent.objects.filter(action="cluster.other_cluster_dismissed", actor=admin_user).exists()
    again = upload(client, scanned_prod, snapshot_of(STAGING_UID)).text
    assert "Snapshot rejected: it was taken of another cluster" in again


def test_an_answer_that_is_neither_accept_nor_dismiss_changes_nothing(client, admin_user, scanned_prod):
    client.force_login(admin_user)
    upload(client, scanned_prod, snapshot_of(STAGING_UID))
    page = client.post(answer_url(scanned_prod), {"decision": "both"}, follow=True).text
    assert "Choose to accept the other cluster or to dismiss the refusal." in page
    scanned_prod.refresh_from_db()
    assert (scanned_prod.kube_system_uid, scanned_prod.other_kube_system_uid) == (PROD_UID, STAGING_UID)


def test_an_engineer_cannot_answer_for_the_team(client, engineer, scanned_prod):
    client.force_login(engineer)
    upload(client, scanned_prod, snapshot_of(STAGING_UID))
    response = client.post(answer_url(scanned_prod), {"decision": "accept"})
    assert response.status_code == 403
    scanned_prod.refresh_from_db()
    assert scanned_prod.kube_system_uid == PROD_UID


def test_the_api_shows_the_refusal_and_a_team_admin_accepts_it(client, engineer, admin_user, scanned_prod):
    client.force_login(engineer)
    upload(client, scanned_prod, snapshot_of(STAGING_UID))
    client.logout()
    path = f"/api/v1/clusters/{scanned_prod.pk}/"
    as_engineer, as_admin = Api(client, token_for(engineer)), Api(client, token_for(admin_user))
    body = as_engineer.get(path).json()
    assert body["kube_system_uid"] == PROD_UID
    assert body["other_cluster"]["kube_system_uid"] == STAGING_UID
    assert body["other_cluster"]["refused_at"]
    assert_error(as_engineer.post(f"{path}accept-other-cluster/"), 403, "permission_denied")
    accepted = as_admin.post(f"{path}accept-other-cluster/")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["kube_system_uid"] == STAGING_UID
    assert accepted.json()["other_cluster"] is None
    assert_error(as_admin.post(f"{path}accept-other-cluster/"), 409, "conflict")
    # The old cluster's snapshot is now the other one: refused, then dismissed; the new identity stays.
    client.force_login(engineer)
    upload(client, scanned_prod, snapshot_of(PROD_UID))
    client.logout()
    dismissed = as_admin.post(f"{path}dismiss-other-cluster/")
    assert dismissed.status_code == 200, dismissed.content
    assert (dismissed.json()["kube_system_uid"], dismissed.json()["other_cluster"]) == (STAGING_UID, None)


def test_a_rescan_of_the_last_good_snapshot_keeps_the_refusal_waiting(scanned_prod):
    """Scheduled scans of an agent or snapshot cluster reread its last stored snapshot: that says
    nothing of the other cluster still being pushed, so the refusal stays for an admin to answer."""
    with pytest.raises(services.SnapshotOfAnotherCluster):
        services.store_snapshot(scanned_prod, snapshot_of(STAGING_UID))
    rescan = services.run_scan(services.start_scan(scanned_prod, enqueue=False).pk)
    assert rescan.status == "succeeded", rescan.error
    scanned_prod.refresh_from_db()
    assert (scanned_prod.kube_system_uid, scanned_prod.other_kube_system_uid) == (PROD_UID, STAGING_UID)


# --- Live clusters: the API server's address may come to lead to another cluster -----------------


def live_cluster(team, kube):
    cluster = make_cluster(
        team, name="live-prod", connection_mode=ConnectionMode.TOKEN, api_url=kube.url, ca_bundle=kube.ca_pem
    )
    return services.save_cluster(cluster, credentials=kube.token)


def scan_now(cluster):
    return services.run_scan(services.start_scan(cluster, enqueue=False).pk)


def test_a_live_scan_that_reaches_another_cluster_fails_and_changes_no_finding(
    client, admin_user, team, serve
):
    first = serve([kube_system(PROD_UID), deployment("web", privileged=True)])
    cluster = live_cluster(team, first)
    assert scan_now(cluster).status == "succeeded"
    cluster.refresh_from_db()
    assert cluster.kube_system_uid == PROD_UID
    open_before = set(Finding.objects.filter(cluster=cluster, status="open").values_list("pk", flat=True))
    first.stop()
    # The same address (say, after a DNS change) now leads to another cluster, with nothing privileged.
    other = serve([kube_system(STAGING_UID), deployment("api", hardened=True)])
    cluster.api_url, cluster.ca_bundle = other.url, other.ca_pem
    services.save_cluster(cluster)
    failed = scan_now(cluster)
    assert failed.status == "failed"
    assert failed.error.startswith("the API server now serves another cluster than live-prod")
    assert STAGING_UID in failed.error
    assert set(Finding.objects.filter(cluster=cluster, status="open").values_list("pk", flat=True)) == (
        open_before
    )
    client.force_login(admin_user)
    page = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    assert "The API server now serves another cluster" in page
    assert "The last scan failed" not in page  # said once, by the alert that says what to do
    client.post(answer_url(cluster), {"decision": "accept"})
    rebuilt = scan_now(cluster)
    assert rebuilt.status == "succeeded", rebuilt.error
    assert not Finding.objects.filter(cluster=cluster, status="open", name="web").exists()


def test_settings_saved_from_a_page_loaded_before_a_scan_keep_what_the_scan_learnt(scanned_prod):
    # The settings page was opened before the cluster's latest scan and identity check.
    stale = type(scanned_prod).objects.get(pk=scanned_prod.pk)
    with pytest.raises(services.SnapshotOfAnotherCluster):
        services.store_snapshot(scanned_prod, snapshot_of(STAGING_UID))
    newer = services.run_scan(services.start_scan(scanned_prod, enqueue=False).pk)
    stale.description = "described on an old page"
    services.save_cluster(stale)
    scanned_prod.refresh_from_db()
    assert scanned_prod.description == "described on an old page"
    assert scanned_prod.last_scan_id == newer.pk
    assert (scanned_prod.kube_system_uid, scanned_prod.other_kube_system_uid) == (PROD_UID, STAGING_UID)


def test_a_cluster_registered_twice_says_so_on_both_pages(client, engineer, scanned_prod, team, other_team):
    again = make_cluster(team, name="prod-again")
    scan_snapshot(again, snapshot_of(PROD_UID))
    elsewhere = make_cluster(other_team, name="prod-of-another-team")  # not this user's to see
    scan_snapshot(elsewhere, snapshot_of(PROD_UID))
    unrelated = make_cluster(team, name="staging")
    scan_snapshot(unrelated, snapshot_of(STAGING_UID))
    client.force_login(engineer)

    page = client.get(reverse("posture:cluster-detail", args=[scanned_prod.pk])).content.decode()
    assert "The same Kubernetes cluster is registered again" in page
    assert reverse("posture:cluster-detail", args=[again.pk]) in page
    assert "prod-of-another-team" not in page
    assert PROD_UID in page
    back = client.get(reverse("posture:cluster-detail", args=[again.pk])).content.decode()
    assert reverse("posture:cluster-detail", args=[scanned_prod.pk]) in back
    alone = client.get(reverse("posture:cluster-detail", args=[unrelated.pk])).content.decode()
    assert "registered again" not in alone
