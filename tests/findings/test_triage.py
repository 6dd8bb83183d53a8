from datetime import timedelta

import pytest
from django.utils import timezone

from findings import triage
from findings.models import Finding, FindingEvent, FindingStatus
from tests.factories import as_yaml, deployment, scan_snapshot

pytestmark = pytest.mark.django_db
S = FindingStatus
ALL = list(S.values)


@pytest.fixture
def finding(cluster):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    return Finding.objects.get(cluster=cluster, check_id="privileged-container")


def put_in(finding, status):
    Finding.objects.filter(pk=finding.pk).update(status=status)
    finding.refresh_from_db()
    return finding


def kwargs_for(to_status):
    if to_status == S.RISK_ACCEPTED:
        return {"reason": "compensating control", "until": timezone.now() + timedelta(days=30)}
    if to_status == S.FALSE_POSITIVE:
        return {"reason": "not reachable"}
    return {"reason": ""}


@pytest.mark.parametrize(("from_status", "to_status"), sorted(triage.USER_TRANSITIONS))
def test_every_allowed_user_transition_changes_status_and_writes_history(
    finding, engineer, from_status, to_status
):
    put_in(finding, from_status)
    triage.change_status(finding, to_status, actor=engineer, **kwargs_for(to_status))
    finding.refresh_from_db()
    assert finding.status == to_status
    event = finding.events.get()
    assert (event.actor, event.from_value, event.to_value) == (engineer, from_status, to_status)


REFUSED = [(a, b) for a in ALL for b in ALL if (a, b) not in triage.USER_TRANSITIONS]


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED)
def test_every_other_user_transition_is_refused_and_leaves_no_trace(
    finding, engineer, from_status, to_status
):
    put_in(finding, from_status)
    with pytest.raises(triage.TransitionRefused):
        triage.change_status(finding, to_status, actor=engineer, **kwargs_for(to_status))
    finding.refresh_from_db()
    assert finding.status == from_status
    assert not finding.events.exists()


def test_accepting_a_risk_needs_a_reason(finding, engineer):
    with pytest.raises(triage.TransitionRefused, match="needs a reason"):
        triage.change_status(
            finding, S.RISK_ACCEPTED, actor=engineer, until=timezone.now() + timedelta(days=1)
        )


def test_accepting_a_risk_needs_a_future_expiry_within_the_maximum(finding, engineer, settings):
    settings.RAMPART_MAX_RISK_ACCEPTANCE_DAYS = 90
    with pytest.raises(triage.TransitionRefused, match="expiry"):
        triage.change_status(finding, S.RISK_ACCEPTED, actor=engineer, reason="r")
    with pytest.raises(triage.TransitionRefused, match="future"):
        triage.change_status(finding, S.RISK_ACCEPTED, actor=engineer, reason="r", until=timezone.now())
    with pytest.raises(triage.TransitionRefused, match="at most 90 days"):
        triage.change_status(
            finding, S.RISK_ACCEPTED, actor=engineer, reason="r", until=timezone.now() + timedelta(days=91)
        )


def test_a_false_positive_needs_a_reason(finding, engineer):
    with pytest.raises(triage.TransitionRefused, match="needs a reason"):
        triage.change_status(finding, S.FALSE_POSITIVE, actor=engineer, reason="  ")


def test_an_expired_risk_acceptance_returns_to_open_by_the_system(finding, engineer):
    triage.change_status(
        finding, S.RISK_ACCEPTED, actor=engineer, reason="r", until=timezone.now() + timedelta(days=1)
    )
    assert triage.expire_risk_acceptances(now=timezone.now() + timedelta(days=2)) == 1
    finding.refresh_from_db()
    assert finding.status == S.OPEN
    last = finding.events.last()
    assert (last.actor, last.from_value, last.to_value, last.reason) == (
        None,
        "risk_accepted",
        "open",
        "risk acceptance expired",
    )


def test_assigning_records_who_and_to_whom(finding, engineer, viewer):
    triage.assign(Finding.objects.filter(pk=finding.pk), viewer, actor=engineer)
    event = FindingEvent.objects.get(finding=finding)
    assert (event.action, event.from_value, event.to_value, event.actor) == ("assigned", "", "vera", engineer)
