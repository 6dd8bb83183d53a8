"""A team admin pauses a cluster's scans for a while and resumes them: the schedule is kept, beat's task
is disabled meanwhile and enabled as it was, a scheduled task already queued skips the cluster, and
both are audited."""

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import AuditEvent, Role
from posture import pausing, schedules, services
from posture.health import render_metrics
from posture.models import Cluster, Scan, ScanTrigger
from posture.models.clusters import MAX_PAUSE_REASON_LENGTH
from posture.tasks import scheduled_scan_task
from tests.factories import as_yaml, deployment, make_cluster, make_user, scan_snapshot

pytestmark = pytest.mark.django_db


def _task(cluster) -> PeriodicTask:
    return PeriodicTask.objects.select_related("interval", "crontab").get(
        name=schedules.schedule_name(cluster)
    )


def test_pausing_keeps_the_schedule_and_disables_its_beat_task(team, admin_user):
    cluster = make_cluster(team, name="hourly", scan_interval_minutes=60)
    assert _task(cluster).enabled

    assert pausing.pause_cluster(cluster, actor=admin_user, reason="node pool rebuild")

    cluster.refresh_from_db()
    assert cluster.is_paused
    assert (cluster.paused_by, cluster.pause_reason) == (admin_user, "node pool rebuild")
    assert cluster.scan_interval_minutes == 60
    task = _task(cluster)
    assert not task.enabled
    assert (task.interval.every, task.interval.period) == (60, "minutes")


def test_resuming_enables_the_beat_task_with_the_schedule_as_it_was(team, admin_user):
    cluster = make_cluster(team, name="nightly", scan_cron="0 3 * * 1-5")
    before = _task(cluster)
    pausing.pause_cluster(cluster, actor=admin_user)

    assert pausing.resume_cluster(cluster, actor=admin_user)

    cluster.refresh_from_db()
    assert not cluster.is_paused
    assert (cluster.paused_by, cluster.pause_reason) == (None, "")
    task = _task(cluster)
    assert task.enabled
    assert task.pk == before.pk
    assert (task.crontab_id, task.interval_id, task.args, task.queue) == (
        before.crontab_id,
        None,
        before.args,
        "scans",
    )
    assert cluster.scan_cron == "0 3 * * 1-5"


def test_changing_a_paused_cluster_s_settings_keeps_it_paused_and_its_new_schedule_disabled(team, admin_user):
    cluster = make_cluster(team, name="hourly", scan_interval_minutes=60)
    stale = Cluster.objects.get(pk=cluster.pk)  # a settings form loaded before the pause
    pausing.pause_cluster(cluster, actor=admin_user, reason="rebuild")

    stale.scan_interval_minutes = 30
    services.save_cluster(stale, actor=admin_user)

    cluster.refresh_from_db()
    assert cluster.is_paused
    assert cluster.pause_reason == "rebuild"
    assert cluster.scan_interval_minutes == 30
    task = _task(cluster)
    assert not task.enabled
    assert task.interval.every == 30
    pausing.resume_cluster(cluster, actor=admin_user)
    assert _task(cluster).enabled


def test_a_scheduled_scan_queued_before_the_pause_skips_the_cluster_and_says_why(cluster, admin_user, caplog):
    scan_snapshot(cluster, as_yaml(deployment("web")))
    pausing.pause_cluster(cluster, actor=admin_user, reason="maintenance window")
    caplog.set_level(logging.INFO, logger="posture.tasks")

    scheduled_scan_task(cluster.pk)

    assert not Scan.objects.filter(cluster=cluster, trigger=ScanTrigger.SCHEDULE).exists()
    assert f"scheduled scan of cluster {cluster.pk} skipped: scanning prod-eu is paused" in caplog.text
    assert "by ada: maintenance window" in caplog.text


def test_a_scheduled_scan_runs_again_once_resumed(cluster, admin_user):
    scan_snapshot(cluster, as_yaml(deployment("web")))
    pausing.pause_cluster(cluster, actor=admin_user)
    pausing.resume_cluster(cluster, actor=admin_user)

    scheduled_scan_task(cluster.pk)

    assert Scan.objects.filter(cluster=cluster, trigger=ScanTrigger.SCHEDULE).exists()


def test_a_manual_scan_of_a_paused_cluster_is_refused_saying_so(cluster, admin_user):
    scan_snapshot(cluster, as_yaml(deployment("web")))
    pausing.pause_cluster(cluster, actor=admin_user, reason="rebuild")

    with pytest.raises(pausing.ClusterPaused) as refused:
        services.start_requested_scan(cluster, trigger=ScanTrigger.MANUAL)

    assert str(refused.value).startswith("scanning prod-eu is paused (since ")
    assert str(refused.value).endswith("by ada: rebuild): a team admin must resume it first")
    assert Scan.objects.filter(cluster=cluster).count() == 1


def test_a_snapshot_pushed_during_a_scan_is_not_scanned_after_it_once_the_cluster_is_paused(
    cluster, admin_user
):
    first = services.store_snapshot(cluster, as_yaml(deployment("web")))
    scan = services.start_scan(cluster, snapshot=first, enqueue=False)
    services.store_snapshot(cluster, as_yaml(deployment("web"), deployment("api")))  # arrives meanwhile
    pausing.pause_cluster(cluster, actor=admin_user)

    services.run_scan(scan.pk)

    assert list(Scan.objects.filter(cluster=cluster).values_list("pk", flat=True)) == [scan.pk]


def test_pausing_and_resuming_are_audited_with_who_when_and_why(cluster, admin_user):
    pausing.pause_cluster(cluster, actor=admin_user, reason="decommission pending")
    paused_at = Cluster.objects.get(pk=cluster.pk).paused_at
    pausing.resume_cluster(cluster, actor=admin_user)

    paused, resumed = (
        AuditEvent.objects.filter(action__startswith="cluster.")
        .exclude(action="cluster.created")
        .order_by("id")
    )
    assert (paused.action, paused.actor, paused.target_id) == ("cluster.paused", admin_user, str(cluster.pk))
    assert paused.details == {"team": "payments", "reason": "decommission pending"}
    assert (resumed.action, resumed.actor) == ("cluster.resumed", admin_user)
    assert resumed.details["reason"] == "decommission pending"
    assert resumed.details["paused_at"].startswith(paused_at.strftime("%Y-%m-%dT%H:%M:%S"))


def test_pausing_a_paused_cluster_keeps_its_first_pause_and_records_nothing(cluster, admin_user, team):
    other_admin = make_user(team, Role.ADMIN, username="alan")
    pausing.pause_cluster(cluster, actor=admin_user, reason="first")

    assert not pausing.pause_cluster(cluster, actor=other_admin, reason="second")
    assert not pausing.resume_cluster(make_cluster(team, name="running"), actor=admin_user)

    cluster.refresh_from_db()
    assert (cluster.paused_by, cluster.pause_reason) == (admin_user, "first")
    assert AuditEvent.objects.filter(action="cluster.paused").count() == 1
    assert not AuditEvent.objects.filter(action="cluster.resumed").exists()


@pytest.mark.parametrize(
    ("reason", "problem"),
    [
        ("x" * (MAX_PAUSE_REASON_LENGTH + 1), "Keep the reason to 200 characters (it has 201)."),
        ("rebuild \u202eesrever", "The reason may not contain invisible or text-direction characters."),
        ("nul\x00byte", "The reason may not contain invisible or text-direction characters."),
    ],
)
def test_a_reason_that_cannot_be_shown_as_typed_is_refused_and_nothing_is_paused(
    cluster, admin_user, reason, problem
):
    with pytest.raises(pausing.InvalidPauseReason, match=problem.replace("(", r"\(").replace(")", r"\)")):
        pausing.pause_cluster(cluster, actor=admin_user, reason=reason)
    cluster.refresh_from_db()
    assert not cluster.is_paused


def test_a_reason_typed_over_several_lines_is_kept_on_one(cluster, admin_user):
    pausing.pause_cluster(cluster, actor=admin_user, reason="  rebuild\r\n  until   Friday ")
    cluster.refresh_from_db()
    assert cluster.pause_reason == "rebuild until Friday"


def test_the_metrics_say_which_clusters_are_paused(cluster, team, admin_user):
    make_cluster(team, name="running")
    pausing.pause_cluster(cluster, actor=admin_user)

    body = render_metrics()

    assert "# TYPE rampart_cluster_paused gauge" in body
    assert 'rampart_cluster_paused{cluster="prod-eu",team="payments"} 1' in body
    assert 'rampart_cluster_paused{cluster="running",team="payments"} 0' in body


# --- A pause that ends by itself: the end of a maintenance window ---------------------------------


def test_a_pause_with_an_end_is_resumed_by_beat_once_it_is_due_and_not_before(team, admin_user):

    window = make_cluster(team, name="window", scan_interval_minutes=60)
    open_ended = make_cluster(team, name="open-ended", scan_interval_minutes=60)
    end = timezone.now() + timedelta(hours=2)
    pausing.pause_cluster(window, actor=admin_user, reason="upgrade", until=end)
    pausing.pause_cluster(open_ended, actor=admin_user, reason="decommission")
    assert "until" in pausing.pause_description(window)

    assert pausing.resume_due_pauses(now=end - timedelta(minutes=1)) == 0
    assert pausing.resume_due_pauses(now=end) == 1

    window.refresh_from_db()
    open_ended.refresh_from_db()
    assert not window.is_paused
    assert window.paused_until is None
    assert _task(window).enabled
    assert open_ended.is_paused
    resumed = AuditEvent.objects.get(action="cluster.resumed")
    assert (resumed.actor, resumed.details["reason"]) == (None, "upgrade")
    beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "posture.tasks.resume_due_pauses_task" in beat


@pytest.mark.parametrize(
    ("hours", "message"),
    [(-1, "The pause must end in the future."), (24 * 400, "A pause can end at most a year from now")],
)
def test_a_pause_that_would_end_in_the_past_or_years_ahead_is_refused(cluster, admin_user, hours, message):

    with pytest.raises(pausing.InvalidPauseReason, match=message):
        pausing.pause_cluster(cluster, actor=admin_user, until=timezone.now() + timedelta(hours=hours))
    cluster.refresh_from_db()
    assert not cluster.is_paused
