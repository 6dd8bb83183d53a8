"""A team admin pauses a cluster's scans from its page, saying why, and resumes them: the page says since
when, by whom and why; "Scan now" and uploads are refused meanwhile; the cluster list and the overview
mark it paused."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from posture import pausing
from posture.models import Cluster, Scan, Snapshot
from tests.factories import as_yaml, deployment, make_cluster, scan_snapshot
from tests.ui.conftest import htmx

pytestmark = pytest.mark.django_db


def page_of(client, cluster) -> str:
    return client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text


def test_an_admin_pauses_with_a_reason_and_the_page_says_since_when_by_whom_and_why(client, team, admin_user):
    cluster = make_cluster(team, name="hourly", scan_interval_minutes=60)
    client.force_login(admin_user)
    assert "Pause scanning…" in page_of(client, cluster)

    response = client.post(
        reverse("posture:cluster-pause", args=[cluster.pk]), {"reason": "Node pool rebuild until Friday"}
    )

    assert response.status_code == 302
    cluster.refresh_from_db()
    assert cluster.is_paused
    page = client.get(response.url).text
    assert (
        "Scanning of hourly paused: no scan starts until it is resumed. Its schedule (every 60 minutes) is "
        "kept for then." in page
    )
    banner = page.split('id="pause-banner"')[1].split("</div>")[0]
    assert f"{cluster.paused_at:%Y-%m-%d %H:%M}</time> by ada — Node pool rebuild until Friday" in banner
    assert "Resume scanning" in banner
    assert "every 60 minutes — <strong" in page  # the schedule is still shown, marked paused
    assert "Pause scanning…" not in page


def test_an_admin_resumes_and_the_schedule_is_as_it_was(client, team, admin_user):
    cluster = make_cluster(team, name="nightly", scan_cron="0 3 * * *")
    pausing.pause_cluster(cluster, actor=admin_user, reason="rebuild")
    client.force_login(admin_user)

    response = client.post(reverse("posture:cluster-resume", args=[cluster.pk]))

    page = client.get(response.url).text
    assert "Scanning of nightly resumed: its schedule (cron 0 3 * * *, UTC) runs again." in page
    assert 'id="pause-banner"' not in page
    assert not Cluster.objects.get(pk=cluster.pk).is_paused
    assert list(
        AuditEvent.objects.filter(target_type="posture.cluster", target_id=str(cluster.pk))
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "cluster.created",
        "cluster.paused",
        "cluster.resumed",
    ]


def test_engineers_and_viewers_see_the_pause_but_are_offered_no_pause_or_resume(
    client, cluster, admin_user, engineer, viewer
):
    for user in (engineer, viewer):
        client.force_login(user)
        assert "Pause scanning…" not in page_of(client, cluster)
    pausing.pause_cluster(cluster, actor=admin_user, reason="rebuild")
    for user in (engineer, viewer):
        client.force_login(user)
        page = page_of(client, cluster)
        assert 'id="pause-banner"' in page
        assert "by ada — rebuild" in page
        assert "Resume scanning" not in page


def test_engineers_and_viewers_cannot_pause_or_resume(client, cluster, admin_user, engineer, viewer):
    for user in (engineer, viewer):
        client.force_login(user)
        assert (
            client.post(reverse("posture:cluster-pause", args=[cluster.pk]), {"reason": "x"}).status_code
            == 403
        )
        assert client.get(reverse("posture:cluster-pause", args=[cluster.pk])).status_code == 403
    assert not Cluster.objects.get(pk=cluster.pk).is_paused
    pausing.pause_cluster(cluster, actor=admin_user)
    for user in (engineer, viewer):
        client.force_login(user)
        assert client.post(reverse("posture:cluster-resume", args=[cluster.pk])).status_code == 403
    assert Cluster.objects.get(pk=cluster.pk).is_paused


def test_a_reason_too_long_is_refused_on_the_form_with_what_was_typed(client, cluster, admin_user):
    client.force_login(admin_user)
    typed = "Node pool rebuild, " * 12  # 228 characters

    response = client.post(reverse("posture:cluster-pause", args=[cluster.pk]), {"reason": typed})

    assert response.status_code == 400
    page = response.text
    assert "Ensure this value has at most 200 characters (it has 227)." in page
    assert f'value="{typed}"' in page
    assert not Cluster.objects.get(pk=cluster.pk).is_paused


def test_scan_now_on_a_paused_cluster_is_refused_saying_to_resume_it_first(
    client, cluster, engineer, admin_user
):
    scan_snapshot(cluster, as_yaml(deployment("web")))
    pausing.pause_cluster(cluster, actor=admin_user, reason="rebuild")
    client.force_login(engineer)
    assert 'class="primary" disabled>Scan now</button>' in page_of(client, cluster)

    plain = client.post(reverse("posture:cluster-scan", args=[cluster.pk]), follow=True).text
    partial = client.post(reverse("posture:cluster-scan", args=[cluster.pk]), **htmx()).text

    for page in (plain, partial):
        assert "Scanning prod-eu is paused (since " in page
        assert "by ada: rebuild): a team admin must resume it first." in page
    assert Scan.objects.filter(cluster=cluster).count() == 1


def test_an_upload_to_a_paused_cluster_is_refused_and_nothing_is_stored(
    client, cluster, engineer, admin_user
):
    pausing.pause_cluster(cluster, actor=admin_user)
    client.force_login(engineer)
    upload = SimpleUploadedFile("cluster.yaml", as_yaml(deployment("web")), content_type="application/yaml")

    page = client.post(
        reverse("posture:cluster-snapshot", args=[cluster.pk]), {"file": upload}, follow=True
    ).text

    assert "Nothing uploaded: scanning prod-eu is paused (since " in page
    assert "Upload and scan" not in page  # the upload card is not offered while paused
    assert not Snapshot.objects.filter(cluster=cluster).exists()


def test_the_cluster_list_and_the_overview_mark_a_paused_cluster(client, team, cluster, admin_user, viewer):
    scan_snapshot(cluster, as_yaml(deployment("web")))
    make_cluster(team, name="running")
    pausing.pause_cluster(cluster, actor=admin_user, reason="rebuild <b>now</b>")
    client.force_login(viewer)
    for url in (reverse("posture:cluster-list"), reverse("home")):
        page = client.get(url).text
        assert page.count('class="paused small"') == 1, url
        assert '<div class="paused small" title="rebuild &lt;b&gt;now&lt;/b&gt;">Paused</div>' in page


def test_a_pause_for_a_maintenance_window_says_when_it_ends(client, team, admin_user):

    cluster = make_cluster(team, name="window")
    client.force_login(admin_user)
    end = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    client.post(
        reverse("posture:cluster-pause", args=[cluster.pk]),
        {"reason": "upgrade", "until": f"{end:%Y-%m-%dT%H:%M}"},
    )
    banner = page_of(client, cluster).split('id="pause-banner"')[1].split("</div>")[0]
    assert f'by itself at <time datetime="{end.isoformat()}">{end:%Y-%m-%d %H:%M} UTC</time>' in banner
    past = client.post(
        reverse("posture:cluster-pause", args=[make_cluster(team, name="other").pk]),
        {"until": "2020-01-01T00:00"},
    )
    assert past.status_code == 400
    assert "The pause must end in the future." in past.text
    listed = client.get(reverse("posture:cluster-list")).text
    assert f'title="upgrade">Paused until {end:%Y-%m-%d %H:%M}</div>' in listed
