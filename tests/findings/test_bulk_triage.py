import time
from datetime import timedelta

import pytest
from django.utils import timezone

from findings import triage
from findings.models import Finding, FindingEvent, FindingStatus
from tests.factories import as_yaml, deployment, make_user, scan_snapshot

pytestmark = pytest.mark.django_db
S = FindingStatus


def test_bulk_acknowledge_changes_the_allowed_and_counts_the_refused(cluster, engineer):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True), deployment("api")))
    fp = Finding.objects.filter(cluster=cluster).first()
    triage.change_status(fp, S.FALSE_POSITIVE, actor=engineer, reason="test data")
    outcome = triage.bulk_change_status(
        Finding.objects.filter(cluster=cluster), S.ACKNOWLEDGED, actor=engineer
    )
    assert outcome.changed == 6
    assert outcome.refused == 1  # a false positive cannot be acknowledged
    assert Finding.objects.filter(cluster=cluster, status=S.ACKNOWLEDGED).count() == 6
    assert FindingEvent.objects.filter(to_value=S.ACKNOWLEDGED, actor=engineer).count() == 6


def test_bulk_accept_risk_validates_once_for_all(cluster, engineer):
    scan_snapshot(cluster, as_yaml(deployment("web")))
    with pytest.raises(triage.TransitionRefused, match="needs a reason"):
        triage.bulk_change_status(
            Finding.objects.all(), S.RISK_ACCEPTED, actor=engineer, until=timezone.now() + timedelta(days=3)
        )
    assert not FindingEvent.objects.exists()


def test_nobody_can_resolve_a_finding_by_hand(cluster, engineer):
    scan_snapshot(cluster, as_yaml(deployment("web")))
    with pytest.raises(triage.TransitionRefused, match="only a complete scan"):
        triage.bulk_change_status(Finding.objects.all(), S.RESOLVED, actor=engineer)


def test_bulk_assign_writes_one_history_row_per_change(cluster, engineer, team):
    scan_snapshot(cluster, as_yaml(deployment("web"), deployment("api")))
    owner = make_user(team, username="olga")
    assert triage.assign(Finding.objects.all(), owner, actor=engineer) == 6
    assert triage.assign(Finding.objects.all(), owner, actor=engineer) == 0  # no change, no history
    events = FindingEvent.objects.filter(action="assigned")
    assert events.count() == 6
    assert set(events.values_list("from_value", "to_value")) == {("", "olga")}
    assert triage.assign(Finding.objects.all(), None, actor=engineer) == 6
    assert set(FindingEvent.objects.filter(to_value="").values_list("from_value", flat=True)) == {"olga"}


def test_thousands_of_findings_are_acknowledged_in_one_call_quickly(cluster, engineer):
    deployments = [deployment(f"app-{n}") for n in range(1000)]
    scan_snapshot(cluster, as_yaml(*deployments))
    assert Finding.objects.count() == 3000
    started = time.perf_counter()
    outcome = triage.bulk_change_status(Finding.objects.all(), S.ACKNOWLEDGED, actor=engineer)
    elapsed = time.perf_counter() - started
    assert outcome.changed == 3000
    assert FindingEvent.objects.filter(to_value=S.ACKNOWLEDGED).count() == 3000
    # Set-based, not a loop: a generous bound that a per-row implementation would not meet.
    assert elapsed < 5, f"bulk acknowledge of 3000 findings took {elapsed:.1f} s"
