import re

from django.urls import reverse

from findings.models import Finding
from posture.models import Scan, ScanStatus
from tests.factories import as_yaml, deployment, scan_snapshot
from tests.ui.conftest import htmx


def test_the_scan_page_lists_what_changed_since_the_previous_scan(client, cluster, viewer):
    first = scan_snapshot(
        cluster, as_yaml(deployment("web", privileged=True), deployment("api", privileged=True))
    )
    second = scan_snapshot(
        cluster, as_yaml(deployment("web", privileged=True), deployment("db", privileged=True))
    )
    third = scan_snapshot(
        cluster, as_yaml(deployment("api", privileged=True), deployment("db", privileged=True))
    )
    client.force_login(viewer)
    page = client.get(reverse("posture:scan-detail", args=[second.pk])).text
    assert f'since scan <a href="{reverse("posture:scan-detail", args=[first.pk])}">#{first.pk}</a>' in page
    new_db = Finding.objects.get(cluster=cluster, name="db", check_id="privileged-container")
    link = reverse("findings:finding-detail", args=[new_db.pk])
    assert f'href="{link}">privileged-container</a> on Deployment shop/db' in page
    assert second.resolved_count > 0
    assert "on Deployment shop/api" in page  # resolved in this scan
    page = client.get(reverse("posture:scan-detail", args=[third.pk])).text
    assert third.reopened_count > 0
    assert "Reopened" in page
    reopened_section = page.split("<h3>Reopened</h3>")[1].split("</div>")[0]
    assert "Deployment shop/api" in reopened_section


def test_a_failed_scan_shows_its_reason_and_what_to_do(client, cluster, viewer):
    from posture import services

    scan = services.run_scan(services.start_scan(cluster, enqueue=False).pk)
    assert scan.status == ScanStatus.FAILED
    client.force_login(viewer)
    page = client.get(reverse("posture:scan-detail", args=[scan.pk])).text
    assert "no snapshot has been uploaded for this cluster yet" in page
    assert "What to do: upload a fresh snapshot" in page


def test_a_running_scan_page_polls_its_status_partial(client, cluster, viewer):
    scan = Scan.objects.create(cluster=cluster, status=ScanStatus.RUNNING, created_at="2026-11-26T00:00:00Z")
    client.force_login(viewer)
    assert 'hx-trigger="every 2s"' in client.get(reverse("posture:scan-detail", args=[scan.pk])).text
    partial = client.get(reverse("posture:scan-detail", args=[scan.pk]), **htmx()).text
    assert partial.lstrip().startswith('<div id="scan-status"')
    assert "<html" not in partial


def test_another_teams_scan_is_not_found(client, cluster, outsider):
    scan = scan_snapshot(cluster, as_yaml(deployment("web")))
    client.force_login(outsider)
    assert client.get(reverse("posture:scan-detail", args=[scan.pk])).status_code == 404


def test_the_scan_page_queries_a_fixed_number_of_times(
    client, demo, demo_viewer, django_assert_max_num_queries
):
    client.force_login(demo_viewer)
    with django_assert_max_num_queries(11):
        page = client.get(reverse("posture:scan-detail", args=[demo.last_scan_id])).text
    assert "What changed" in page


def test_resolved_findings_are_listed_worst_first(client, cluster, viewer):
    # The milder findings are older (lower ids) than the critical one: insertion order is not severity.
    scan_snapshot(cluster, as_yaml(deployment("mild", hardened=True)))
    scan_snapshot(cluster, as_yaml(deployment("mild", hardened=True), deployment("bad", privileged=True)))
    last = scan_snapshot(cluster, as_yaml(deployment("other", hardened=True)))
    client.force_login(viewer)
    page = client.get(reverse("posture:scan-detail", args=[last.pk])).text
    resolved = page.split("<h3>Resolved</h3>")[1].split("</div>")[0]
    listed = re.findall(r">([a-z0-9-]+)</a> on Deployment shop/(\w+)", resolved)
    rank = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
    order = [rank[Finding.objects.get(cluster=cluster, check_id=c, name=n).severity] for c, n in listed]
    assert len(order) > 1
    assert order == sorted(order, reverse=True)


def test_all_new_findings_of_a_scan_are_those_it_found_first_and_the_list_says_so(client, cluster, viewer):
    earlier = [deployment(f"old-{n}", privileged=True) for n in range(3)]
    scan_snapshot(cluster, as_yaml(*earlier))
    later = scan_snapshot(
        cluster, as_yaml(*earlier, *(deployment(f"new-{n}", privileged=True) for n in range(12)))
    )
    assert later.new_count > 100  # past what the scan page lists itself
    client.force_login(viewer)
    page = client.get(reverse("posture:scan-detail", args=[later.pk])).text
    link = re.search(r'<a href="([^"]+)">All ([\d,]+) new findings →</a>', page)
    assert link.group(2) == f"{later.new_count:,}"
    listed = client.get(link.group(1).replace("&amp;", "&")).text
    assert f"{later.new_count:,} findings" in listed  # not the cluster's earlier ones too
    assert f"First seen in scan #{later.pk}" in listed
    # The filter has no control of its own; the form carries it when another filter changes.
    assert f'<input type="hidden" name="first_seen_scan" value="{later.pk}">' in listed
    narrowed = client.get(reverse("findings:finding-list"), {"first_seen_scan": later.pk, "q": "new-1"}).text
    assert "old-" not in narrowed.split('id="results"')[1]
