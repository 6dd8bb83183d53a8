"""Cluster, exception and triage changes leave an audit trail, without secrets."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from findings import services, triage
from findings.models import ExceptionRule, Finding, FindingStatus
from posture import services as posture_services
from tests.factories import as_yaml, deployment, scan_snapshot

pytestmark = pytest.mark.django_db


def test_registering_a_cluster_and_changing_its_credentials_is_audited_without_the_secret(team, admin_user):
    from posture.models import Cluster, ConnectionMode

    cluster = Cluster(
        name="edge", team=team, connection_mode=ConnectionMode.TOKEN, api_url="https://k.example:6443"
    )
    posture_services.save_cluster(cluster, credentials="tok-very-secret-value", actor=admin_user)
    actions = list(
        AuditEvent.objects.filter(actor=admin_user).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["cluster.created", "cluster.credentials_changed"]
    assert "tok-very-secret-value" not in str(list(AuditEvent.objects.values_list("details", flat=True)))


def test_exception_rules_are_audited_when_created_and_revoked(cluster, team, admin_user):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    rule, _ = services.create_exception_rule(
        ExceptionRule(
            team=team,
            owner=admin_user,
            reason="appliance",
            check_ids=["privileged-container"],
            expires_at=timezone.now() + timedelta(days=10),
        ),
        actor=admin_user,
    )
    services.revoke_exception_rule(rule, actor=admin_user)
    events = AuditEvent.objects.filter(action__startswith="exception.").order_by("id")
    assert [(e.action, e.details.get("accepted", e.details.get("reopened"))) for e in events] == [
        ("exception.created", 1),
        ("exception.revoked", 1),
    ]


def test_a_bulk_triage_action_is_one_audit_row_with_its_count(cluster, engineer):
    scan_snapshot(cluster, as_yaml(deployment("web"), deployment("api")))
    triage.bulk_change_status(Finding.objects.all(), FindingStatus.ACKNOWLEDGED, actor=engineer)
    event = AuditEvent.objects.get(action="triage.status_changed")
    assert event.actor == engineer
    assert event.details["findings"] == 6
    assert event.details["to_status"] == "acknowledged"
