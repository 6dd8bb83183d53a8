from datetime import timedelta

import pytest
from django.utils import timezone

from findings.models import Finding
from posture import pausing
from posture.models import Scan
from tests.api.helpers import assert_error, make_findings
from tests.factories import accept_risk, make_cluster, make_team, make_user

pytestmark = pytest.mark.django_db


def _scan(cluster, days_ago, score, counts, new=0, resolved=0, status="succeeded"):
    at = timezone.now() - timedelta(days=days_ago)
    return Scan.objects.create(
        cluster=cluster,
        status=status,
        created_at=at,
        started_at=at,
        finished_at=at,
        score=score,
        counts_by_severity=counts,
        new_count=new,
        resolved_count=resolved,
    )


def test_trends_read_scan_summaries_per_day_and_carry_a_cluster_forward(api, viewer, cluster, team):
    other = make_cluster(team, name="prod-us")
    _scan(cluster, 5, 60.0, {"critical": 2, "high": 3}, new=5)
    _scan(cluster, 2, 80.0, {"high": 1}, resolved=4)
    _scan(other, 2, 90.0, {"low": 4}, new=4)
    body = api(viewer).get("/api/v1/trends/", {"days": 7}).json()
    assert body["scope"] == "fleet"
    points = {point["bucket"]: point for point in body["points"]}
    assert len(points) == 7
    five = (timezone.now() - timedelta(days=5)).date().isoformat()
    two = (timezone.now() - timedelta(days=2)).date().isoformat()
    today = timezone.now().date().isoformat()
    assert points[five]["score"] == 60.0
    assert points[five]["open_by_severity"] == {"critical": 2, "high": 3}
    assert points[five]["new"] == 5
    assert points[two]["score"] == 85.0  # the mean of both clusters' last scores
    assert points[two]["open_by_severity"] == {"high": 1, "low": 4}
    assert points[two]["resolved"] == 4
    assert points[today]["open_total"] == 5  # carried forward
    assert points[today]["clusters"] == 2


def test_trends_by_week_for_one_cluster_or_team(api, viewer, cluster):
    _scan(cluster, 20, 50.0, {"high": 2})
    body = api(viewer).get("/api/v1/trends/", {"cluster": cluster.pk, "bucket": "week", "days": 28}).json()
    assert body["scope"] == f"cluster:{cluster.pk}"
    assert 4 <= len(body["points"]) <= 5
    assert body["points"][-1]["score"] == 50.0
    assert api(viewer).get("/api/v1/trends/", {"team": "payments"}).json()["scope"] == "team:payments"


def test_each_scope_answers_its_own_name_even_when_it_covers_the_same_clusters(api, admin_user, cluster):
    # One team with one cluster: the fleet, the team and the cluster are the same clusters, and the
    # second and third requests must not be answered from the first one's cache entry.
    client = api(admin_user)
    assert client.get("/api/v1/trends/", {"team": "payments"}).json()["scope"] == "team:payments"
    assert client.get("/api/v1/trends/").json()["scope"] == "fleet"
    assert client.get("/api/v1/trends/", {"cluster": cluster.pk}).json()["scope"] == f"cluster:{cluster.pk}"
    assert client.get("/api/v1/trends/", {"team": "payments"}).json()["scope"] == "team:payments"


def test_mean_time_to_resolve_comes_from_resolved_findings(api, viewer, cluster):
    finding = make_findings(cluster, 1)[0]
    now = timezone.now()
    Finding.objects.filter(pk=finding.pk).update(
        status="resolved", first_seen_at=now - timedelta(hours=30), resolved_at=now
    )
    today = api(viewer).get("/api/v1/trends/", {"days": 1}).json()["points"][-1]
    assert today["mean_time_to_resolve_hours"] == 30.0


def test_trends_refuse_bad_parameters_and_other_teams(api, viewer, outsider, cluster):
    client = api(viewer)
    assert_error(client.get("/api/v1/trends/", {"bucket": "hour"}), 400, "invalid")
    assert_error(client.get("/api/v1/trends/", {"days": "0"}), 400, "invalid")
    assert_error(client.get("/api/v1/trends/", {"days": "99999999999999999999"}), 400, "invalid")
    assert_error(client.get("/api/v1/trends/", {"cluster": "x"}), 400, "invalid")
    assert_error(api(outsider).get("/api/v1/trends/", {"cluster": cluster.pk}), 404)
    assert_error(api(outsider).get("/api/v1/trends/", {"team": "payments"}), 404)


def test_the_summary_totals_the_latest_scans(api, viewer, scanned, team):
    broken = make_cluster(team, name="broken")
    _scan(broken, 0, None, {}, status="failed")
    body = api(viewer).get("/api/v1/summary/").json()
    assert body["clusters"] == 2
    assert body["scanned_clusters"] == 1
    assert body["failed_last_scans"] == 1
    assert body["open_by_severity"]["critical"] == 1
    assert body["grade"]
    rows = {row["name"]: row for row in body["per_cluster"]}
    assert rows["broken"]["last_scan_status"] == "failed"
    scanned.refresh_from_db()
    assert rows["prod-eu"]["score"] == scanned.last_scan.score


def test_the_summary_counts_accepted_risks_apart_from_the_open_findings(
    api, viewer, engineer, scanned, django_capture_on_commit_callbacks
):
    privileged = Finding.objects.get(cluster=scanned, check_id="privileged-container")
    accept_risk(privileged, engineer, django_capture_on_commit_callbacks)
    needs_work = Finding.objects.filter(cluster=scanned, status__in=["open", "acknowledged"])
    body = api(viewer).get("/api/v1/summary/").json()
    assert "critical" not in body["open_by_severity"]  # the one critical is an accepted risk now
    assert body["open_total"] == needs_work.count()
    assert body["accepted_risk"] == 1
    (row,) = body["per_cluster"]
    assert row["open_by_severity"] == body["open_by_severity"]
    assert row["accepted_risk"] == 1


def test_the_summary_counts_overdue_findings(api, viewer, cluster):
    make_findings(cluster, 2, due_at=timezone.now() - timedelta(days=1))
    make_findings(cluster, 1)
    assert api(viewer).get("/api/v1/summary/").json()["overdue"] == 2


def test_a_team_without_clusters_is_an_empty_trend_for_its_members_and_superusers(api, outsider):
    make_team("Platform")
    superuser = make_user(username="root-admin", is_superuser=True)
    for who in (superuser, make_user(make_team("Data"), username="data-lead")):
        team = "platform" if who.is_superuser else "data"
        response = api(who).get("/api/v1/trends/", {"team": team, "days": 3})
        assert response.status_code == 200, who
        assert [point["clusters"] for point in response.json()["points"]] == [0, 0, 0]
    assert_error(api(outsider).get("/api/v1/trends/", {"team": "platform"}), 404)


def test_the_summary_says_which_clusters_are_paused(api, viewer, admin_user, scanned):
    (row,) = api(viewer).get("/api/v1/summary/").json()["per_cluster"]
    assert row["paused_at"] is None
    pausing.pause_cluster(scanned, actor=admin_user, reason="node pool rebuild")
    (row,) = api(viewer).get("/api/v1/summary/").json()["per_cluster"]
    assert row["paused_at"] is not None


def test_the_trends_last_point_leaves_accepted_risks_out_as_the_summary_does(
    api, viewer, engineer, scanned, django_capture_on_commit_callbacks
):
    privileged = Finding.objects.get(cluster=scanned, check_id="privileged-container")
    accept_risk(privileged, engineer, django_capture_on_commit_callbacks)
    client = api(viewer)
    last = client.get("/api/v1/trends/", {"days": 7}).json()["points"][-1]
    summary = client.get("/api/v1/summary/").json()
    assert "critical" not in last["open_by_severity"]  # the one critical is an accepted risk now
    assert last["open_by_severity"] == summary["open_by_severity"]
    assert last["open_total"] == summary["open_total"]
