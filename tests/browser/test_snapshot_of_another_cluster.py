"""In a real browser: an upload of another cluster's snapshot is refused, the page says so until a team
admin answers, and accepting a rebuilt cluster lets its snapshot in."""

import pytest
from playwright.sync_api import expect

from posture.models import Cluster, Scan
from tests.browser.conftest import log_in
from tests.factories import as_yaml, deployment

pytestmark = pytest.mark.browser

OTHER_UID = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"


def test_a_refused_snapshot_waits_on_the_page_until_an_admin_accepts_the_rebuilt_cluster(
    page, seeded, tmp_path
):
    cluster = seeded["cluster"]
    Cluster.objects.filter(pk=cluster.pk).update(kube_system_uid="6c2b0d7e-1f3a-4e55-9a1d-2f7c8b9e0a11")
    snapshot = tmp_path / "rebuilt.yaml"
    kube_system = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "kube-system", "uid": OTHER_UID},
    }
    snapshot.write_bytes(as_yaml(kube_system, deployment("web", privileged=True)))
    scans = Scan.objects.filter(cluster=cluster).count()
    log_in(page, "abe")
    page.goto(f"/clusters/{cluster.pk}/")
    page.get_by_label("Snapshot file").set_input_files(str(snapshot))
    page.get_by_role("button", name="Upload and scan").click()
    expect(page.locator(".messages")).to_contain_text("Snapshot rejected: it was taken of another cluster")
    banner = page.locator("#another-cluster")
    expect(banner).to_contain_text(OTHER_UID)
    page.reload()  # the message is gone; the refusal stays until it is answered
    expect(banner).to_contain_text("A snapshot of another cluster was refused")
    page.get_by_role("button", name="It was rebuilt: accept the new cluster").click()
    expect(page.locator(".messages")).to_contain_text(f"the cluster whose kube-system uid is {OTHER_UID}")
    expect(banner).to_have_count(0)
    page.get_by_label("Snapshot file").set_input_files(str(snapshot))
    page.get_by_role("button", name="Upload and scan").click()
    expect(page.locator(".messages")).to_contain_text("Snapshot uploaded")
    assert Scan.objects.filter(cluster=cluster).count() == scans + 1
    assert page.problems == []
