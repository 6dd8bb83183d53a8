import gzip
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent
from findings.models import Finding
from posture import services
from posture.models import Cluster, Scan, ScanStatus
from tests.factories import as_yaml, deployment, make_cluster, make_lifecycle_cluster, scan_snapshot

pytestmark = pytest.mark.django_db


def test_the_cluster_list_shows_the_teams_clusters_with_their_grade(client, viewer, cluster):
    scan_snapshot(cluster, as_yaml(deployment("web", hardened=True)))
    client.force_login(viewer)
    response = client.get(reverse("posture:cluster-list"))
    assert response.status_code == 200
    assert "prod-eu" in response.text
    assert 'class="grade grade-a"' in response.text


def test_the_cluster_list_hides_other_teams_clusters(client, viewer, other_team):
    make_cluster(other_team, name="secret-cluster")
    client.force_login(viewer)
    assert "secret-cluster" not in client.get(reverse("posture:cluster-list")).text


def test_an_empty_cluster_list_tells_an_admin_how_to_start(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("posture:cluster-list"))
    assert "No clusters yet" in response.text
    assert reverse("posture:cluster-create") in response.text


def test_the_cluster_list_does_not_query_per_cluster(client, viewer, team):
    client.force_login(viewer)
    scan_snapshot(make_lifecycle_cluster(team, name="c0"), as_yaml(deployment("web")))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("posture:cluster-list"))
    for n in range(1, 8):
        scan_snapshot(make_lifecycle_cluster(team, name=f"c{n}"), as_yaml(deployment("web")))
    with CaptureQueriesContext(connection) as eight:
        client.get(reverse("posture:cluster-list"))
    assert len(eight) == len(one)


def test_another_teams_cluster_is_not_found(client, outsider, cluster):
    client.force_login(outsider)
    assert client.get(reverse("posture:cluster-detail", args=[cluster.pk])).status_code == 404


def test_an_admin_registers_a_snapshot_cluster(client, admin_user, team):
    client.force_login(admin_user)
    response = client.post(
        reverse("posture:cluster-create"),
        {
            "name": "staging",
            "team": team.pk,
            "connection_mode": "snapshot",
            "scan_interval_minutes": 60,
        },
    )
    cluster = Cluster.objects.get(name="staging")
    assert response.status_code == 302
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name=f"rampart:scan-cluster:{cluster.pk}")
    assert (task.interval.every, task.interval.period, task.task) == (
        60,
        "minutes",
        "posture.tasks.scheduled_scan_task",
    )
    from accounts.models import AuditEvent

    created = AuditEvent.objects.get(action="cluster.created")
    assert created.actor == admin_user  # the person, not "system"
    cluster.description = "staging for the shop"
    cluster.scan_interval_minutes = 120
    services.save_cluster(cluster, actor=admin_user)
    updated = AuditEvent.objects.get(action="cluster.updated")
    assert updated.details["changed"] == ["description", "scan_interval_minutes"]  # names, never values


def test_a_viewer_cannot_register_clusters(client, viewer):
    client.force_login(viewer)
    assert client.get(reverse("posture:cluster-create")).status_code == 403


def test_uploading_a_snapshot_scans_it(client, engineer, cluster, django_capture_on_commit_callbacks):
    client.force_login(engineer)
    upload = SimpleUploadedFile("dump.yaml", as_yaml(deployment("web", privileged=True)))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("posture:cluster-snapshot", args=[cluster.pk]), {"file": upload}, follow=True
        )
    # Workers scan after the commit, so the message can only say that the scan is queued.
    assert f"Snapshot uploaded. Scan of {cluster.name} queued." in response.text
    scan = Scan.objects.get(cluster=cluster)
    assert scan.status == ScanStatus.SUCCEEDED
    assert Finding.objects.filter(cluster=cluster, check_id="privileged-container").exists()


@pytest.mark.django_db(transaction=True)
def test_with_tasks_in_process_the_upload_message_says_how_the_scan_ended(client, engineer, cluster):
    # The embedded default: no worker, the scan runs before the redirect, so "queued" would be untrue.
    client.force_login(engineer)
    upload = SimpleUploadedFile("dump.yaml", as_yaml(deployment("web", privileged=True)))
    url = reverse("posture:cluster-snapshot", args=[cluster.pk])
    response = client.post(url, {"file": upload}, follow=True)
    scan = Scan.objects.get(cluster=cluster)
    assert scan.status == ScanStatus.SUCCEEDED
    expected = f"Scan of {cluster.name} finished: score {scan.score:.1f}, {scan.findings_count}"
    assert expected in response.text
    assert "queued" not in response.text


@pytest.mark.django_db(transaction=True)
def test_an_upload_with_an_unreadable_document_says_so_and_where_it_is_listed(client, engineer, cluster):
    broken = b"---\nkind: Deployment\nmetadata:\n  name: b\n bad: indent\n"
    data = as_yaml(deployment("a")) + broken + as_yaml(deployment("c"))
    broken_line = data.split(b"\n").index(b" bad: indent") + 1
    client.force_login(engineer)
    upload = SimpleUploadedFile("dump.yaml", data)
    response = client.post(
        reverse("posture:cluster-snapshot", args=[cluster.pk]), {"file": upload}, follow=True
    )
    scan = Scan.objects.get(cluster=cluster)
    assert '<li class="message warning">Snapshot uploaded. Scan of prod-eu finished: ' in response.text
    assert (
        f"1 document of the file could not be read and was left out: scan #{scan.pk}&#x27;s page lists it "
        "under “What was read”.</li>"
    ) in response.text
    scan_page = client.get(reverse("posture:scan-detail", args=[scan.pk])).text
    assert (
        f"document 2: invalid YAML: did not find expected key (line {broken_line} of the file)" in scan_page
    )


@pytest.mark.django_db(transaction=True)
def test_with_tasks_in_process_a_failed_scan_now_says_why(client, engineer, team, settings):
    settings.RAMPART_SCAN_RETRY_DELAYS = []
    cluster = make_cluster(team, name="gone", connection_mode="token", api_url="https://127.0.0.1:1")
    services.save_cluster(cluster, credentials="token-0123456789abcdefghij")
    client.force_login(engineer)
    response = client.post(reverse("posture:cluster-scan", args=[cluster.pk]), follow=True)
    assert "Scan of gone failed: " in response.text
    assert "connection refused" in response.text


def test_a_corrupt_upload_is_refused_with_a_reason_and_nothing_is_stored(client, engineer, cluster):
    client.force_login(engineer)
    upload = SimpleUploadedFile("dump.yaml", b"\x00\x01\x02 not yaml at all")
    response = client.post(
        reverse("posture:cluster-snapshot", args=[cluster.pk]), {"file": upload}, follow=True
    )
    assert "Snapshot rejected: the snapshot holds no readable Kubernetes objects" in response.text
    assert "Traceback" not in response.text
    assert not cluster.snapshots.exists()
    assert not Scan.objects.filter(cluster=cluster).exists()


def test_an_oversized_upload_is_refused(client, engineer, cluster, settings):
    settings.RAMPART_MAX_SNAPSHOT_BYTES = 2048
    client.force_login(engineer)
    upload = SimpleUploadedFile("dump.yaml", b"#" * 4096)
    response = client.post(
        reverse("posture:cluster-snapshot", args=[cluster.pk]), {"file": upload}, follow=True
    )
    assert "larger than the" in response.text
    assert not cluster.snapshots.exists()


def test_a_gzip_bomb_is_refused_in_plain_words(client, engineer, cluster, settings):
    settings.RAMPART_MAX_SNAPSHOT_BYTES = 1024 * 1024
    client.force_login(engineer)
    upload = SimpleUploadedFile("dump.yaml.gz", gzip.compress(b" " * (3 * 1024 * 1024)))
    response = client.post(
        reverse("posture:cluster-snapshot", args=[cluster.pk]), {"file": upload}, follow=True
    )
    assert (
        "Snapshot rejected: the snapshot is larger than the 1 MiB limit once decompressed." in response.text
    )
    assert not cluster.snapshots.exists()


def test_scan_now_is_refused_while_a_scan_is_active(client, engineer, cluster):
    services.store_snapshot(cluster, as_yaml(deployment("web")))
    Scan.objects.create(cluster=cluster, status=ScanStatus.RUNNING, created_at="2026-11-26T00:00:00Z")
    client.force_login(engineer)
    response = client.post(reverse("posture:cluster-scan", args=[cluster.pk]), follow=True)
    assert "already queued or running" in response.text
    assert Scan.objects.filter(cluster=cluster).count() == 1


def test_a_viewer_cannot_start_a_scan(client, viewer, cluster):
    client.force_login(viewer)
    assert client.post(reverse("posture:cluster-scan", args=[cluster.pk])).status_code == 403


def test_scan_now_without_a_snapshot_says_to_upload_one_and_records_no_failed_scan(client, engineer, cluster):
    client.force_login(engineer)
    response = client.post(reverse("posture:cluster-scan", args=[cluster.pk]), follow=True)
    assert "No snapshot of prod-eu has been uploaded yet: upload one to scan it." in response.text
    assert not Scan.objects.filter(cluster=cluster).exists()


def test_a_scan_without_a_snapshot_fails_with_a_reason(cluster):
    # What a scan started another way (a stale queue, a deleted snapshot) records.
    scan = services.run_scan(services.start_scan(cluster, enqueue=False).pk)
    assert scan.status == ScanStatus.FAILED
    assert scan.error == "no snapshot has been uploaded for this cluster yet"


def test_the_scans_partial_is_served_to_htmx_polling(client, viewer, cluster):
    Scan.objects.create(cluster=cluster, status=ScanStatus.RUNNING, created_at="2026-11-26T00:00:00Z")
    client.force_login(viewer)
    response = client.get(
        reverse("posture:cluster-detail", args=[cluster.pk]), headers={"HX-Request": "true"}
    )
    assert response.text.lstrip().startswith('<div id="scans"')
    assert 'hx-trigger="every 2s"' in response.text
    assert "<html" not in response.text


def test_older_scans_are_reached_page_by_page(client, viewer, cluster):
    scans = [
        Scan.objects.create(
            cluster=cluster, status=ScanStatus.FAILED, created_at=f"2026-11-{day:02d}T03:00:00Z"
        )
        for day in range(1, 26)
    ]
    client.force_login(viewer)
    url = reverse("posture:cluster-detail", args=[cluster.pk])
    first = client.get(url).text
    assert f'id="scan-{scans[-1].pk}"' in first  # the newest
    assert f'id="scan-{scans[0].pk}"' not in first
    assert "?scans_page=2#scans-title" in first
    second = client.get(url, {"scans_page": 2}).text
    assert f'id="scan-{scans[0].pk}"' in second  # the oldest
    assert "?scans_page=1#scans-title" in second
    assert "Older scans" not in second
    assert client.get(url, {"scans_page": "²"}).status_code == 200


def test_an_admin_deletes_a_cluster_after_typing_its_name(client, admin_user, cluster):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    client.force_login(admin_user)
    delete = reverse("posture:cluster-delete", args=[cluster.pk])
    assert f'action="{delete}"' in client.get(reverse("posture:cluster-edit", args=[cluster.pk])).text
    wrong = client.post(delete, {"confirm_name": "prod"}, follow=True)
    assert "Nothing deleted: to confirm, type the name prod-eu exactly." in wrong.text
    assert Cluster.objects.filter(pk=cluster.pk).exists()
    done = client.post(delete, {"confirm_name": " prod-eu "}, follow=True)
    assert "Cluster prod-eu deleted, with its scans and findings." in done.text
    assert not Cluster.objects.filter(pk=cluster.pk).exists()
    assert not Finding.objects.exists()
    assert AuditEvent.objects.filter(
        action="cluster.deleted", target_label="prod-eu", actor=admin_user
    ).exists()


def test_engineers_cannot_delete_a_cluster(client, engineer, cluster):
    client.force_login(engineer)
    response = client.post(reverse("posture:cluster-delete", args=[cluster.pk]), {"confirm_name": "prod-eu"})
    assert response.status_code == 403
    assert Cluster.objects.filter(pk=cluster.pk).exists()


def test_a_scans_duration_includes_storing_its_findings(cluster, monkeypatch):
    stored = services.ingest

    def slow_ingest(*args, **kwargs):  # a large cluster's findings take a while to store
        time.sleep(0.3)
        return stored(*args, **kwargs)

    monkeypatch.setattr(services, "ingest", slow_ingest)
    scan = scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    assert scan.duration_seconds >= 0.3
    assert scan.finished_at > Finding.objects.filter(cluster=cluster).latest("last_seen_at").last_seen_at
