from datetime import timedelta

import pytest
from django.utils import timezone

from findings.models import Finding, FindingEvent, NamespaceOwnership
from tests.factories import as_yaml, deployment, make_user, scan_snapshot

pytestmark = pytest.mark.django_db


def test_due_dates_follow_the_severity_sla(cluster, settings):
    settings.RAMPART_SLA_DAYS = {"critical": 7, "high": 30, "medium": 90, "low": 180, "info": 365}
    now = timezone.now()
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)), now=now)
    critical = Finding.objects.get(check_id="privileged-container")
    assert abs(critical.due_at - (now + timedelta(days=7))) < timedelta(seconds=5)
    high = Finding.objects.get(check_id="run-as-root")
    assert abs(high.due_at - (now + timedelta(days=30))) < timedelta(seconds=5)


def test_the_due_date_survives_rescans(cluster):
    first = timezone.now() - timedelta(days=3)
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)), now=first)
    due = Finding.objects.get(check_id="privileged-container").due_at
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    assert Finding.objects.get(check_id="privileged-container").due_at == due


def test_overdue_findings_are_the_live_ones_past_their_due_date(cluster):
    scan_snapshot(
        cluster, as_yaml(deployment("web", privileged=True)), now=timezone.now() - timedelta(days=8)
    )
    overdue = Finding.objects.overdue(timezone.now())
    assert list(overdue.values_list("check_id", flat=True)) == ["privileged-container"]


def test_new_findings_go_to_the_owning_teams_default_assignee(cluster, team):
    olga = make_user(team, username="olga")
    pete = make_user(team, username="pete")
    NamespaceOwnership.objects.create(team=team, namespace_pattern="pay*", default_assignee=olga, priority=10)
    NamespaceOwnership.objects.create(team=team, namespace_pattern="*", default_assignee=pete, priority=50)
    scan_snapshot(
        cluster, as_yaml(deployment("web", namespace="payments"), deployment("api", namespace="search"))
    )
    assignees = dict(Finding.objects.values_list("namespace", "assignee__username").distinct())
    assert assignees == {"payments": "olga", "search": "pete"}
    event = FindingEvent.objects.filter(action="assigned").first()
    assert event.actor is None
    assert event.to_value in {"olga", "pete"}


def test_ownership_does_not_reassign_existing_findings(cluster, team, engineer):
    scan_snapshot(cluster, as_yaml(deployment("web", namespace="payments")))
    olga = make_user(team, username="olga")
    NamespaceOwnership.objects.create(team=team, namespace_pattern="payments", default_assignee=olga)
    scan_snapshot(cluster, as_yaml(deployment("web", namespace="payments")))
    assert not Finding.objects.filter(assignee=olga).exists()
