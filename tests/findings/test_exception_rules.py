from datetime import timedelta

import pytest
from django.utils import timezone

from findings import services, triage
from findings.models import ExceptionRule, Finding, FindingStatus
from tests.factories import as_yaml, deployment, make_lifecycle_cluster, scan_snapshot

pytestmark = pytest.mark.django_db
S = FindingStatus


def labelled(name, namespace, **labels):
    obj = deployment(name, namespace=namespace, privileged=True)
    obj["metadata"]["labels"] = labels
    return obj


@pytest.fixture
def scanned(cluster):
    scan_snapshot(
        cluster,
        as_yaml(
            labelled("legacy-billing", "payments", tier="legacy"),
            labelled("web", "payments", tier="frontend"),
            labelled("job-runner", "batch-jobs", tier="legacy"),
        ),
    )
    return cluster


def rule(team, admin_user, **fields):
    fields.setdefault("reason", "vendor appliance, replaced in Q3")
    fields.setdefault("expires_at", timezone.now() + timedelta(days=30))
    return ExceptionRule(team=team, owner=admin_user, **fields)


def statuses():
    return dict(Finding.objects.filter(check_id="privileged-container").values_list("name", "status"))


def test_a_new_rule_accepts_the_findings_it_covers_at_once_and_links_them(scanned, team, admin_user):
    new_rule, accepted = services.create_exception_rule(
        rule(team, admin_user, check_ids=["privileged-container"], namespace_pattern="pay*"), actor=admin_user
    )
    assert accepted == 2
    assert statuses() == {"legacy-billing": S.RISK_ACCEPTED, "web": S.RISK_ACCEPTED, "job-runner": S.OPEN}
    finding = Finding.objects.get(name="web", check_id="privileged-container")
    assert finding.exception_rule == new_rule
    assert finding.risk_accepted_until == new_rule.expires_at
    assert finding.events.last().reason.startswith(f"exception rule #{new_rule.pk}")
    new_rule.refresh_from_db()
    assert new_rule.match_count == 2
    assert new_rule.last_matched_at is not None


def test_a_label_selector_narrows_a_rule(scanned, team, admin_user):
    services.create_exception_rule(
        rule(team, admin_user, label_selector={"tier": "legacy"}, check_ids=["privileged-container"]),
        actor=admin_user,
    )
    assert statuses() == {"legacy-billing": S.RISK_ACCEPTED, "web": S.OPEN, "job-runner": S.RISK_ACCEPTED}


def test_a_name_pattern_narrows_a_rule(scanned, team, admin_user):
    services.create_exception_rule(rule(team, admin_user, name_pattern="legacy-*"), actor=admin_user)
    assert statuses()["legacy-billing"] == S.RISK_ACCEPTED
    assert statuses()["web"] == S.OPEN


def test_rules_apply_at_ingest_to_findings_that_appear_later(cluster, team, admin_user):
    services.create_exception_rule(
        rule(team, admin_user, cluster=cluster, check_ids=["privileged-container"]), actor=admin_user
    )
    scan = scan_snapshot(cluster, as_yaml(deployment("late", privileged=True)))
    assert Finding.objects.get(name="late", check_id="privileged-container").status == S.RISK_ACCEPTED
    assert Finding.objects.get(name="late", check_id="run-as-root").status == S.OPEN
    assert scan.accepted_risk_count == 1


def test_a_rule_does_not_reach_another_teams_clusters(team, other_team, admin_user):
    foreign = make_lifecycle_cluster(other_team, name="foreign")
    scan_snapshot(foreign, as_yaml(deployment("web", privileged=True)))
    services.create_exception_rule(
        rule(team, admin_user, check_ids=["privileged-container"]), actor=admin_user
    )
    assert not Finding.objects.filter(status=S.RISK_ACCEPTED).exists()


def test_an_expired_rule_stops_applying_and_its_findings_reopen(scanned, team, admin_user):
    new_rule, _ = services.create_exception_rule(
        rule(team, admin_user, namespace_pattern="batch-*"), actor=admin_user
    )
    later = new_rule.expires_at + timedelta(minutes=1)
    assert triage.expire_risk_acceptances(now=later) > 0
    assert statuses()["job-runner"] == S.OPEN
    scan_snapshot(scanned, as_yaml(labelled("job-runner", "batch-jobs", tier="legacy")), now=later)
    assert statuses()["job-runner"] == S.OPEN  # the expired rule no longer accepts at ingest


def test_revoking_a_rule_reopens_its_findings_with_history(scanned, team, admin_user):
    new_rule, accepted = services.create_exception_rule(
        rule(team, admin_user, namespace_pattern="payments"), actor=admin_user
    )
    assert services.revoke_exception_rule(new_rule, actor=admin_user).released == accepted
    assert statuses()["web"] == S.OPEN
    assert Finding.objects.get(name="web", check_id="privileged-container").events.last().actor == admin_user


def test_revoking_a_rule_gives_acknowledged_findings_back_acknowledged(scanned, team, admin_user, engineer):
    web = Finding.objects.get(name="web", check_id="privileged-container")
    triage.change_status(web, S.ACKNOWLEDGED, actor=engineer, reason="seen, fix planned")
    legacy = Finding.objects.get(name="legacy-billing", check_id="privileged-container")
    new_rule, accepted = services.create_exception_rule(
        rule(team, admin_user, namespace_pattern="payments", check_ids=["privileged-container"]),
        actor=admin_user,
    )
    assert accepted == 2
    revoked = services.revoke_exception_rule(new_rule, actor=admin_user)
    assert (revoked.reopened, revoked.acknowledged, revoked.held_by_others) == (1, 1, 0)
    web.refresh_from_db()
    legacy.refresh_from_db()
    assert (web.status, legacy.status) == (S.ACKNOWLEDGED, S.OPEN)
    assert web.exception_rule is None
    assert web.risk_accepted_until is None
    moves = [
        (event.from_value, event.to_value) for event in web.events.filter(action="status").order_by("id")
    ]
    assert moves == [
        ("open", "acknowledged"),
        ("acknowledged", "risk_accepted"),
        ("risk_accepted", "acknowledged"),
    ]


NARROW = {"check_ids": ["privileged-container"]}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({**NARROW, "expires_at": None}, "expire in the future"),
        ({**NARROW, "reason": "  "}, "needs a reason"),
        ({**NARROW, "expires_at": timezone.now() + timedelta(days=5000)}, "at most"),
        ({}, "narrower than everything"),
        ({"namespace_pattern": "*"}, "narrower than everything"),
        ({"namespace_pattern": "**", "name_pattern": "*"}, "narrower than everything"),
    ],
)
def test_rules_that_are_too_broad_or_incomplete_are_refused(team, admin_user, fields, message):
    candidate = rule(team, admin_user, **fields)
    with pytest.raises(services.RuleRefused, match=message):
        services.create_exception_rule(candidate, actor=admin_user)
    assert not ExceptionRule.objects.exists()


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"app=": "web"}, "“app=” is not a label key"),
        ({"app!": "web"}, "“app!” is not a label key"),
        ({"app": "web;tier=db"}, "“web;tier=db” is not a label value"),
        ({"k" * 64: "x"}, r"is not a label key \(at most 63"),
        ({"Example.COM/app": "x"}, "its prefix must be a DNS name"),
        ({"app": "<script>alert(1)</script>"}, "is not a label value"),
    ],
)
def test_a_label_selector_that_no_kubernetes_label_can_match_is_refused(team, admin_user, selector, message):
    candidate = rule(team, admin_user, label_selector=selector)
    with pytest.raises(services.RuleRefused, match=message):
        services.create_exception_rule(candidate, actor=admin_user)
    assert not ExceptionRule.objects.exists()


def test_real_label_keys_are_accepted(team, admin_user):
    selector = {"app.kubernetes.io/name": "web", "tier": "", "team_owner": "payments-2"}
    created, _ = services.create_exception_rule(
        rule(team, admin_user, label_selector=selector), actor=admin_user
    )
    assert created.label_selector == selector


def test_a_second_rule_with_exactly_the_same_scope_is_refused(team, admin_user):
    first, _ = services.create_exception_rule(
        rule(team, admin_user, check_ids=["run-as-root", "privileged-container"]), actor=admin_user
    )
    with pytest.raises(services.RuleRefused, match=f"exception #{first.pk} already covers exactly this"):
        services.create_exception_rule(
            rule(team, admin_user, check_ids=["privileged-container", "run-as-root"]), actor=admin_user
        )
    services.revoke_exception_rule(first, actor=admin_user)
    services.create_exception_rule(
        rule(team, admin_user, check_ids=["privileged-container", "run-as-root"]), actor=admin_user
    )
    assert ExceptionRule.objects.count() == 2


def test_a_finding_released_by_one_rule_is_taken_at_once_by_another_that_covers_it(scanned, team, admin_user):
    broad, _ = services.create_exception_rule(
        rule(team, admin_user, namespace_pattern="pay*", reason="broad"), actor=admin_user
    )
    narrow, accepted_by_narrow = services.create_exception_rule(
        rule(team, admin_user, check_ids=["privileged-container"], label_selector={"tier": "frontend"}),
        actor=admin_user,
    )
    assert accepted_by_narrow == 0  # the broad rule holds web already
    revoked = services.revoke_exception_rule(broad, actor=admin_user)
    web = Finding.objects.get(name="web", check_id="privileged-container")
    assert (web.status, web.exception_rule_id) == (S.RISK_ACCEPTED, narrow.pk)
    assert revoked.held_by_others == 1
    assert revoked.released > 1
    assert Finding.objects.get(name="legacy-billing", check_id="privileged-container").status == S.OPEN


def test_a_pattern_of_only_stars_is_stored_as_every_name_so_the_same_scope_is_recognised(team, admin_user):
    first, _ = services.create_exception_rule(
        rule(team, admin_user, check_ids=["run-as-root"], namespace_pattern="**"), actor=admin_user
    )
    assert first.namespace_pattern == ""
    with pytest.raises(services.RuleRefused, match=f"exception #{first.pk} already covers exactly this"):
        services.create_exception_rule(
            rule(team, admin_user, check_ids=["run-as-root"], namespace_pattern="*"), actor=admin_user
        )
