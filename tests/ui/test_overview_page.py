import re
from datetime import datetime, time, timedelta

from django.urls import reverse
from django.utils import timezone

from findings import triage
from findings.models import Finding
from posture.models import Cluster, Scan, ScanStatus
from tests.factories import accept_risk, as_yaml, deployment, make_cluster, scan_snapshot
from tests.ui.conftest import htmx


def test_the_overview_is_the_home_page_and_shows_every_cluster_with_grade_and_trend(
    client, demo, demo_viewer
):
    client.force_login(demo_viewer)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    page = response.text
    assert f'<a href="/clusters/{demo.pk}/">demo-shop-prod</a>' in page
    assert f'href="/findings/?cluster={demo.pk}&amp;status=open&amp;status=acknowledged"' in page
    assert f'class="grade grade-{demo.last_scan.grade.lower()}"' in page
    assert '<svg class="chart spark"' in page
    assert "demo-shop-prod over the last 30 days" in page


def test_the_overview_summarises_findings_from_the_latest_scans(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    page = client.get(reverse("home")).text
    assert "Open findings by severity" in page
    assert f"{demo.last_scan.findings_count}" in page
    for severity, count in demo.last_scan.counts_by_severity.items():
        assert f"{severity.title()}: {count}</title>" in page
    assert "New and resolved, last 7 days" in page
    assert "Top failing checks" in page
    assert "Compliance by framework" in page
    assert "Pod Security Standards: baseline" in page


def test_the_overview_counts_overdue_findings(client, demo, demo_viewer):
    from django.utils import timezone

    from findings.models import Finding

    Finding.objects.filter(cluster=demo, status="open").update(
        due_at=timezone.now() - timezone.timedelta(days=1)
    )
    overdue = Finding.objects.overdue(timezone.now()).count()
    client.force_login(demo_viewer)
    page = client.get(reverse("home")).text
    assert f'?overdue=true&amp;sort=due">{overdue}</a>' in page


def test_the_trend_period_switches_to_ninety_days_through_the_htmx_partial(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    response = client.get(reverse("home"), {"days": "90"}, **htmx())
    assert response.text.lstrip().startswith('<section id="trends"')
    assert "<html" not in response.text
    assert "over the last 90 days" in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_the_overview_hides_other_teams_clusters(client, demo, stranger):
    client.force_login(stranger)
    page = client.get(reverse("home")).text
    assert "demo-shop-prod" not in page
    assert "No clusters yet" in page


def test_with_no_clusters_an_admin_is_invited_to_register_one(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("home")).text
    assert "No clusters yet" in page
    assert reverse("posture:cluster-create") in page


def test_with_no_clusters_a_viewer_is_told_whom_to_ask(client, viewer):
    client.force_login(viewer)
    assert "Ask an admin of your team" in client.get(reverse("home")).text


def test_a_cluster_whose_scan_failed_shows_the_reason_on_the_overview(client, team, viewer):
    cluster = make_cluster(team, name="broken")
    from posture import services

    scan = services.start_scan(cluster, enqueue=False)
    scan = services.run_scan(scan.pk)
    assert scan.status == ScanStatus.FAILED
    client.force_login(viewer)
    page = client.get(reverse("home")).text
    assert "no snapshot has been uploaded for this cluster yet" in page


def test_the_overview_does_not_query_per_cluster(client, team, viewer, django_assert_max_num_queries):
    for n in range(6):
        scan_snapshot(make_cluster(team, name=f"c{n}"), as_yaml(deployment("web", privileged=True)))
    client.force_login(viewer)
    # 14, and four for who carries what: one aggregate per assignee, their names, two bounded counts of
    # the unassigned
    with django_assert_max_num_queries(18):
        response = client.get(reverse("home"))
    assert response.text.count('<svg class="chart spark"') == 6


def test_the_overview_needs_a_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_top_failing_checks_count_what_still_needs_work_in_each_latest_scan(client, team, viewer):
    from findings import triage
    from findings.models import Finding

    snapshot = as_yaml(
        deployment("a", privileged=True), deployment("b", privileged=True), deployment("c", hardened=True)
    )
    cluster = make_cluster(team, name="shop")
    scan_snapshot(cluster, snapshot)
    privileged = Finding.objects.filter(cluster=cluster, check_id="privileged-container")
    assert privileged.count() == 2
    # One of the two is accepted as a risk; the next scan no longer counts it as failing.
    triage.change_status(privileged.first(), "false_positive", actor=viewer, reason="a test fixture")
    scan = scan_snapshot(cluster, snapshot)
    assert scan.counts_by_check["privileged-container"] == 1
    assert scan.counts_by_check["run-as-root"] == 2

    client.force_login(viewer)
    page = client.get(reverse("home")).text
    top = page.split('id="checks-title"')[1].split("</table>")[0]
    shown = re.findall(r'<code class="muted">([\w-]+)</code>.*?<td>(\d+)</td>\s*</tr>', top, re.DOTALL)
    expected = sorted(scan.counts_by_check.items(), key=lambda item: (-item[1], item[0]))[:10]
    assert [(check_id, int(count)) for check_id, count in shown] == expected


def test_the_overview_follows_triage_without_waiting_for_the_next_scan(
    client, team, viewer, engineer, django_capture_on_commit_callbacks
):
    cluster = make_cluster(team, name="shop")
    scan_snapshot(cluster, as_yaml(deployment("a", privileged=True), deployment("b", privileged=True)))
    privileged = Finding.objects.filter(cluster=cluster, check_id="privileged-container")
    with django_capture_on_commit_callbacks(execute=True):  # the recount runs once the change commits
        triage.change_status(privileged.first(), "false_positive", actor=engineer, reason="a test fixture")

    cluster.refresh_from_db()
    open_now = Finding.objects.filter(cluster=cluster, status__in=["open", "acknowledged"])
    assert cluster.last_scan.counts_by_check["privileged-container"] == 1
    assert cluster.last_scan.findings_count == open_now.count()
    client.force_login(viewer)
    page = client.get(reverse("home")).text
    assert f'status=acknowledged">{open_now.count()}</a></p>' in page


def _scored(cluster, days_ago: int, score: float, *, hours: int = 12):
    """A finished scan with only its summary row, at ``hours`` past midnight ``days_ago`` days back."""
    day = timezone.localdate() - timedelta(days=days_ago)
    at = timezone.make_aware(datetime.combine(day, time(hour=hours)))
    scan = Scan.objects.create(
        cluster=cluster,
        status=ScanStatus.SUCCEEDED,
        created_at=at,
        started_at=at,
        finished_at=at,
        score=score,
    )
    Cluster.objects.filter(pk=cluster.pk).update(last_scan=scan)
    return scan


def test_each_day_of_a_trend_is_where_the_clusters_stood_that_evening(client, team, viewer):
    """A cluster scanned weekly neither drops out of the fleet's line between its scans nor counts alone
    on the day it is scanned; a day scanned twice ends on the second scan, as the score tile does."""
    daily = make_cluster(team, name="daily")
    weekly = make_cluster(team, name="weekly")
    _scored(weekly, 40, 50.0)  # before the 30-day window: where the weekly cluster stood when it opened
    _scored(weekly, 5, 40.0)
    for days_ago in range(10, 0, -1):
        _scored(daily, days_ago, 90.0)
    _scored(daily, 0, 60.0, hours=0)
    _scored(daily, 0, 80.0, hours=0)  # the same day, later (created second, same minute: the id decides)

    client.force_login(viewer)
    page = client.get(reverse("home")).text
    assert "Average fleet score over the last 30 days: from 50.0 to 60.0" in page  # (80 + 40) / 2 today
    assert "daily over the last 30 days: from 90.0 to 80.0" in page
    assert "weekly over the last 30 days: from 50.0 to 40.0" in page
    weekly_row = page.split(">weekly</a>")[1].split("</tr>")[0]
    assert "▼ 10.0" in weekly_row
    # A day when only the daily cluster was scanned still averages both: (90 + 40) / 2.
    three_days_ago = timezone.localdate() - timedelta(days=3)
    assert f"<title>{three_days_ago.isoformat()}: 65</title>" in page
    # The API's trends draw the same line, day by day.
    points = client.get("/api/v1/trends/", {"days": 30}).json()["points"]
    drawn = dict(
        re.findall(r"<title>(\d{4}-\d\d-\d\d): ([\d.]+)</title>", page.split('class="chart line"')[1])
    )
    served = {point["bucket"]: point["score"] for point in points if point["score"] is not None}
    assert {day: float(score) for day, score in drawn.items()} == served
    assert len(served) == 30


def test_the_fleets_compliance_does_not_add_up_controls_as_if_they_were_more(client, team, viewer):
    """Two clusters of a 14-control framework are not 28 controls: the fleet row names the clusters."""
    for name in ("east", "west"):
        scan_snapshot(make_cluster(team, name=name), as_yaml(deployment("web", privileged=True)))
    client.force_login(viewer)
    page = client.get(reverse("home")).text
    fleet = page.split('<tr class="total"><th scope="row">All clusters</th>')[1].split("</tr>")[0]
    assert "(2 clusters)" in fleet
    east = Scan.objects.get(cluster__name="east")
    controls = east.framework_compliance["pss-baseline"]["controls"]
    assert f"/{2 * controls})" not in fleet


def test_large_counts_read_with_thousands_separators_on_every_page(client, demo, demo_viewer):
    scan = demo.last_scan
    scan.findings_count, scan.accepted_risk_count = 30_066, 1_500  # 28,566 open
    scan.counts_by_severity = {"critical": 1_234, "high": 27_332}
    scan.objects_collected = {"Pod": 12_345}
    scan.save()
    client.force_login(demo_viewer)

    assert ">28,566</a>" in client.get(reverse("home")).text
    assert "1,234 critical" in client.get(reverse("home")).text
    clusters = client.get(reverse("posture:cluster-list")).text
    assert "<td>28,566</td>" in clusters
    assert "28566" not in clusters
    scan_page = client.get(reverse("posture:scan-detail", args=[scan.pk])).text
    assert "1,500 accepted risk" in scan_page
    assert "Pod: 12,345" in scan_page


def test_each_overdue_finding_says_whose_it_is(client, team, viewer, engineer):
    cluster = make_cluster(team, name="shop")
    scan_snapshot(cluster, as_yaml(deployment("a", privileged=True), deployment("b", privileged=True)))
    late = Finding.objects.filter(cluster=cluster, check_id="privileged-container")
    late.update(due_at=timezone.now() - timedelta(days=2))
    triage.assign(late.filter(name="a"), engineer, actor=engineer)
    client.force_login(viewer)
    page = client.get(reverse("home")).text
    overdue = page.split('id="overdue-title"')[1].split("</section>")[0]
    assert f"· assigned to {engineer.get_username()}</span>" in overdue
    assert "· <strong>unassigned</strong></span>" in overdue


def test_a_clusters_critical_and_high_count_what_its_open_findings_link_lists(
    client, team, viewer, engineer, django_capture_on_commit_callbacks
):
    """The row's "N critical, N high" sit under its open findings: an accepted risk is in neither."""
    cluster = make_cluster(team, name="shop")
    scan_snapshot(cluster, as_yaml(deployment("a", privileged=True), deployment("b", privileged=True)))
    accepted = Finding.objects.filter(cluster=cluster, check_id="privileged-container", name="a").get()
    accept_risk(accepted, engineer, django_capture_on_commit_callbacks)
    client.force_login(viewer)
    page = client.get(reverse("home")).text
    assert '<span class="sev-text-critical">1 critical</span>' in page
    listed = client.get(
        reverse("findings:finding-list"),
        {"cluster": cluster.pk, "status": ["open", "acknowledged"], "severity": "critical"},
    ).text
    assert re.search(r'<p class="result-count muted">1 finding\s', listed)
