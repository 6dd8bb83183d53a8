import re

from django.urls import reverse

from posture import services
from posture.models import Cluster, ConnectionMode, Scan, ScanStatus
from tests.factories import as_yaml, deployment, make_cluster, scan_snapshot
from tests.fakekube import FakeKube
from tests.ui.conftest import htmx


def test_the_cluster_page_shows_the_score_trend_as_an_svg_chart(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    page = client.get(reverse("posture:cluster-detail", args=[demo.pk])).text
    assert '<svg class="chart line"' in page
    assert "Score of demo-shop-prod over the last 30 days" in page
    assert page.count('<circle class="chart-dot"') == 5  # one per scan


def test_scans_show_the_total_object_count_not_the_number_of_kinds(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    page = client.get(reverse("posture:cluster-detail", args=[demo.pk])).text
    total = sum(demo.last_scan.objects_collected.values())
    assert f">{total}</span>" in page
    assert " kinds</td>" not in page


def test_coverage_gaps_are_listed_with_their_reasons(client, cluster, viewer):
    scan = scan_snapshot(cluster, as_yaml(deployment("web")))
    Scan.objects.filter(pk=scan.pk).update(
        status=ScanStatus.PARTIAL, coverage_gaps={"Secret": "forbidden: cannot list secrets"}
    )
    client.force_login(viewer)
    page = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    assert "<strong>Secret</strong>: forbidden: cannot list secrets" in page
    assert "The last scan could not read everything." in page


def test_namespaces_are_listed_with_their_counts(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    page = client.get(reverse("posture:cluster-detail", args=[demo.pk])).text
    for namespace, count in demo.last_scan.counts_by_namespace.items():
        if namespace:
            assert f'namespace={namespace}">{namespace}</a></th>\n        <td>{count}</td>' in page


def test_a_namespace_row_adds_up_and_leaves_out_findings_the_latest_scan_did_not_count(
    client, cluster, viewer
):
    from tests.api.helpers import make_findings

    scan = scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    # Open, but not seen by the latest scan (kept because a scan could not assess its check).
    make_findings(cluster, 3, severity="critical", namespace="shop")
    client.force_login(viewer)
    page = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    row = page.split('namespace=shop">shop</a></th>')[1].split("</tr>")[0]
    cells = [int(n) for n in re.findall(r"<td>(?:<span class=\"muted\">)?(\d+)", row)]
    count, severities = cells[0], cells[1:6]
    assert count == scan.counts_by_namespace["shop"] == sum(severities)
    assert severities[0] == scan.counts_by_severity.get("critical", 0)


def test_scan_now_through_htmx_returns_the_scans_partial(
    client, cluster, engineer, django_capture_on_commit_callbacks
):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    client.force_login(engineer)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("posture:cluster-scan", args=[cluster.pk]), **htmx())
    assert response.text.lstrip().startswith('<div id="scans"')
    assert 'hx-trigger="every 2s"' in response.text  # queued: the partial polls until it is done
    assert "Queued" in response.text


def test_scan_now_while_one_is_running_says_so_in_the_partial(client, cluster, engineer):
    services.store_snapshot(cluster, as_yaml(deployment("web")))
    Scan.objects.create(cluster=cluster, status=ScanStatus.RUNNING, created_at="2026-11-26T00:00:00Z")
    client.force_login(engineer)
    response = client.post(reverse("posture:cluster-scan", args=[cluster.pk]), **htmx())
    assert "already queued or running" in response.text


def test_a_running_or_failed_scan_row_has_no_counts_yet(client, cluster, viewer):
    failed = Scan.objects.create(
        cluster=cluster, status=ScanStatus.FAILED, error="unreachable", created_at="2026-11-25T00:00:00Z"
    )
    running = Scan.objects.create(
        cluster=cluster, status=ScanStatus.RUNNING, created_at="2026-11-26T00:00:00Z"
    )
    client.force_login(viewer)
    page = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    for scan in (running, failed):
        row = page.split(f'<tr id="scan-{scan.pk}">')[1].split("</tr>")[0]
        assert "+0 / −0" not in row
        assert '<td>—</td><td class="col-optional">—</td>' in row


def test_scan_now_before_any_snapshot_says_to_upload_one_and_records_no_failed_scan(
    client, cluster, engineer
):
    client.force_login(engineer)
    response = client.post(reverse("posture:cluster-scan", args=[cluster.pk]), **htmx())
    assert "No snapshot of prod-eu has been uploaded yet: upload one to scan it." in response.text
    assert not Scan.objects.exists()


def test_the_polling_partial_stops_polling_once_the_scan_has_finished(client, cluster, viewer):
    scan_snapshot(cluster, as_yaml(deployment("web")))
    client.force_login(viewer)
    response = client.get(reverse("posture:cluster-detail", args=[cluster.pk]), **htmx())
    assert response.text.lstrip().startswith('<div id="scans"')
    assert "every 2s" not in response.text
    assert "Succeeded" in response.text


def test_a_failed_last_scan_says_why_and_what_to_do(client, cluster, viewer):
    from posture import services

    services.run_scan(services.start_scan(cluster, enqueue=False).pk)
    client.force_login(viewer)
    page = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    assert "The last scan failed:</strong> no snapshot has been uploaded for this cluster yet" in page
    assert "What to do: upload a fresh snapshot" in page


def test_the_schedule_is_shown_and_admins_can_change_it(client, team, admin_user, viewer):
    cluster = make_cluster(team, name="nightly", scan_cron="0 3 * * *")
    client.force_login(viewer)
    page = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    assert "cron <code>0 3 * * *</code>" in page
    assert reverse("posture:cluster-edit", args=[cluster.pk]) not in page
    client.force_login(admin_user)
    assert (
        reverse("posture:cluster-edit", args=[cluster.pk])
        in client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    )


def test_without_a_beat_process_a_schedule_says_it_is_not_running(client, team, admin_user, settings):
    """The embedded default runs tasks in-process: nothing starts scheduled scans there."""
    scheduled = make_cluster(team, name="hourly", scan_interval_minutes=60)
    on_demand = make_cluster(team, name="by-hand")
    client.force_login(admin_user)
    idle = "Not running here: this installation runs tasks in-process"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert idle in client.get(reverse("posture:cluster-detail", args=[scheduled.pk])).text
    assert idle not in client.get(reverse("posture:cluster-detail", args=[on_demand.pk])).text
    assert idle in client.get(reverse("posture:cluster-edit", args=[scheduled.pk])).text
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a worker and beat: schedules run
    assert idle not in client.get(reverse("posture:cluster-detail", args=[scheduled.pk])).text


def test_scan_now_says_what_it_is_doing_while_the_request_runs(client, cluster, engineer, settings):
    client.force_login(engineer)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    page = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    form = page.split('hx-post="' + reverse("posture:cluster-scan", args=[cluster.pk]))[1].split("</form>")[0]
    assert 'hx-disabled-elt="find button"' in form  # no second press while it runs
    assert "Scanning… the page updates when the scan is done." in form
    settings.CELERY_TASK_ALWAYS_EAGER = False
    page = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    assert "Queuing the scan…" in page


def test_a_new_cluster_page_says_how_to_get_a_first_scan(client, cluster, engineer):
    client.force_login(engineer)
    page = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    assert "No scans yet. Upload a snapshot below." in page


def test_the_cluster_page_queries_a_fixed_number_of_times(
    client, demo, demo_viewer, django_assert_max_num_queries
):
    client.force_login(demo_viewer)
    with django_assert_max_num_queries(11):
        client.get(reverse("posture:cluster-detail", args=[demo.pk]))


def test_a_scans_page_past_the_oldest_scan_says_so_and_leads_back(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    page = client.get(reverse("posture:cluster-detail", args=[demo.pk]), {"scans_page": 999}).text
    assert "No scans this far back." in page
    assert "No scans yet" not in page


def edge_whose_scan_failed(team):
    """A token cluster whose only scan failed (its token was refused), and the fake server it asked."""
    with FakeKube() as kube:
        cluster = services.save_cluster(
            Cluster(name="edge", team=team, connection_mode=ConnectionMode.TOKEN, api_url=kube.url,
                    ca_bundle=kube.ca_pem),
            credentials="revoked-token",
        )  # fmt: skip
        services.run_scan(services.start_scan(cluster, enqueue=False).pk)
    return cluster, kube


def test_a_failed_scan_older_than_the_settings_says_to_scan_again_not_to_fix_them(client, team, admin_user):
    # The operator fixed the token after the failure: advice to go and fix it would be stale.
    cluster, kube = edge_whose_scan_failed(team)
    client.force_login(admin_user)
    detail = reverse("posture:cluster-detail", args=[cluster.pk])
    assert "What to do: open the cluster's settings" in client.get(detail).text
    services.save_cluster(cluster, credentials=kube.token)
    page = client.get(detail).text
    assert "The last scan failed:</strong> the API server rejected" in page
    assert "The cluster's settings were saved after this scan: press “Scan now” to scan with them." in page
    assert "What to do: open the cluster" not in page


def test_renaming_a_cluster_after_a_failed_scan_keeps_the_advice_to_fix_its_settings(
    client, team, admin_user
):
    # Only a change to how Rampart reaches the cluster makes the failure stale, not a new name.
    cluster, _ = edge_whose_scan_failed(team)
    cluster.name, cluster.ca_bundle = "edge-eu", cluster.ca_bundle.replace("\n", "\r\n")
    services.save_cluster(cluster)
    client.force_login(admin_user)
    page = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    assert "What to do: open the cluster's settings" in page
    assert "were saved after this scan" not in page


def test_a_namespace_link_lists_as_many_findings_as_its_row_counts(client, cluster, viewer):
    from datetime import timedelta

    from django.utils import timezone

    from findings import triage
    from findings.models import Finding, FindingStatus

    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True), deployment("api", privileged=True)))
    # "api" is gone from the next scan: its findings are resolved, and neither the row nor the list
    # behind its link should count them. An accepted risk still counts in both.
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    triage.change_status(
        Finding.objects.filter(cluster=cluster, name="web", check_id="privileged-container").get(),
        FindingStatus.RISK_ACCEPTED,
        actor=viewer,
        reason="legacy",
        until=timezone.now() + timedelta(days=30),
    )
    client.force_login(viewer)
    page = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    link, counted = re.search(r'<a href="([^"]+)">shop</a></th>\s*<td>(\d+)</td>', page).groups()
    listed = client.get(link.replace("&amp;", "&")).text
    assert f"{counted} findings" in listed
