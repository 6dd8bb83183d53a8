"""A live cluster's scans read its API server: a snapshot uploaded to it would never be read.

It used to be stored and "scanned": the scan, labelled Upload, read the live cluster instead and
reported its objects as the file's.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from posture.models import ConnectionMode, Scan, Snapshot
from tests.factories import as_yaml, deployment, make_cluster

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_cluster(team):
    return make_cluster(
        team, name="edge-live", connection_mode=ConnectionMode.TOKEN, api_url="https://203.0.113.10:6443"
    )


def test_a_snapshot_uploaded_to_a_live_cluster_is_refused_and_nothing_is_stored(
    client, engineer, live_cluster
):
    client.force_login(engineer)
    upload = SimpleUploadedFile("dump.yaml", as_yaml(deployment("web", privileged=True)))
    response = client.post(
        reverse("posture:cluster-snapshot", args=[live_cluster.pk]), {"file": upload}, follow=True
    )
    assert "Snapshot rejected: edge-live is read live (API URL and bearer token)" in response.text
    assert not Snapshot.objects.filter(cluster=live_cluster).exists()
    assert not Scan.objects.filter(cluster=live_cluster).exists()


def test_a_live_clusters_page_offers_no_snapshot_upload(client, engineer, live_cluster, cluster):
    client.force_login(engineer)
    live_page = client.get(reverse("posture:cluster-detail", args=[live_cluster.pk])).text
    snapshot_page = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    assert "Upload a snapshot" not in live_page
    assert "Upload and scan" in snapshot_page
