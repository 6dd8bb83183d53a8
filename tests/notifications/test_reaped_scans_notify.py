from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from posture import services
from posture.models import Scan, ScanStatus


def test_a_scan_the_reaper_fails_is_reported_like_any_failed_scan(
    receiver, webhook, cluster, django_capture_on_commit_callbacks
):
    now = timezone.now()
    lost = Scan.objects.create(
        cluster=cluster,
        status=ScanStatus.RUNNING,
        created_at=now,
        started_at=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 3600),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reap_stale_scans(now) == 1
    assert len(receiver.requests) == 1
    payload = receiver.json(0)
    assert payload["event"] == "scan.failed"
    assert payload["scan"]["id"] == lost.pk
    assert "worker running this scan stopped" in payload["scan"]["error"]
