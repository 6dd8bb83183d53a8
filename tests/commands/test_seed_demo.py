from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from findings.models import Finding
from posture.models import Cluster, ScanStatus, ScanTrigger

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_a_cluster_with_a_history_of_scans(capsys):
    call_command("seed_demo", days=5, workloads=20)
    cluster = Cluster.objects.get(name="demo-shop-prod")
    scans = list(cluster.scans.order_by("created_at"))
    assert len(scans) == 5
    assert {scan.status for scan in scans} == {ScanStatus.SUCCEEDED}
    # Snapshots of a cluster with no schedule: the history says so, as the cluster page does.
    assert {scan.trigger for scan in scans} == {ScanTrigger.UPLOAD}
    assert not cluster.scan_interval_minutes
    assert not cluster.scan_cron
    assert scans[0].created_at.date() < scans[-1].created_at.date()
    assert cluster.last_scan == scans[-1]
    assert Finding.objects.filter(cluster=cluster).exists()
    assert "Log in as 'admin' with password" in capsys.readouterr().out


def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo", days=2, workloads=10)
    call_command("seed_demo", days=2, workloads=10)
    assert Cluster.objects.get(name="demo-shop-prod").scans.count() == 2
    assert "already exists" in capsys.readouterr().out


def test_seeded_before_three_in_the_morning_no_scan_is_in_the_future(monkeypatch, capsys):
    early = datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: early)
    call_command("seed_demo", days=3, workloads=10)
    scans = list(Cluster.objects.get(name="demo-shop-prod").scans.order_by("created_at"))
    assert [scan.created_at for scan in scans] == [
        datetime(2026, 11, day, 3, 0, tzinfo=UTC) for day in (24, 25, 26)
    ]
    capsys.readouterr()
