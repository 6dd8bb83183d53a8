from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from findings import services, triage
from findings.models import ExceptionRule, Finding, FindingStatus
from tests.factories import as_yaml, deployment, scan_snapshot


def a_rule(cluster, owner, **fields):
    rule = ExceptionRule(
        team=cluster.team,
        cluster=cluster,
        check_ids=["privileged-container"],
        reason="vendor agent needs it",
        owner=owner,
        expires_at=timezone.now() + timedelta(days=30),
        **fields,
    )
    return services.create_exception_rule(rule, actor=owner)[0]


def test_the_list_shows_each_rule_with_its_usage(client, cluster, admin_user, viewer):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True), deployment("api", privileged=True)))
    rule = a_rule(cluster, admin_user)
    client.force_login(viewer)
    page = client.get(reverse("findings:exception-list")).text
    assert f'id="rule-{rule.pk}"' in page
    assert "vendor agent needs it" in page
    assert "2 findings now</a>" in page
    assert "2 matched in all" in page
    assert "last matched now" in page  # not "last now"
    assert '<span class="state state-active">active</span>' in page
    assert "Revoke" not in page  # viewers do not manage exceptions


def test_a_rules_findings_link_lists_the_findings_that_rule_holds_and_no_others(client, cluster, admin_user):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True), deployment("api", privileged=True)))
    other = Finding.objects.filter(cluster=cluster).exclude(check_id="privileged-container").first()
    until = timezone.now() + timedelta(days=5)
    triage.change_status(other, FindingStatus.RISK_ACCEPTED, actor=admin_user, reason="by hand", until=until)
    rule = a_rule(cluster, admin_user)
    client.force_login(admin_user)
    link = f"?status=risk_accepted&amp;exception={rule.pk}"
    assert link in client.get(reverse("findings:exception-list")).text
    listed = client.get(
        reverse("findings:finding-list"), {"status": "risk_accepted", "exception": rule.pk}
    ).text
    held = Finding.objects.filter(exception_rule=rule)
    assert held.count() == 2
    for finding in held:
        assert f'id="finding-{finding.pk}"' in listed
    assert f'id="finding-{other.pk}"' not in listed


def test_an_admin_creates_an_exception_and_matching_findings_are_accepted(client, cluster, admin_user):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    client.force_login(admin_user)
    form = client.get(reverse("findings:exception-create")).text
    team_select = form.split('name="team"')[1].split("</select>")[0]
    assert f'<option value="{cluster.team_id}" selected>' in team_select  # the admin's only team, chosen
    until = (timezone.localdate() + timedelta(days=60)).isoformat()
    response = client.post(
        reverse("findings:exception-create"),
        {
            "team": cluster.team_id,
            "cluster": cluster.pk,
            "check_ids": ["privileged-container"],
            "namespace_pattern": "sho*",
            "labels": "app=web",
            "reason": "the vendor's agent",
            "owner": admin_user.pk,
            "expires": until,
        },
        follow=True,
    )
    assert "1 matching finding accepted until it expires." in response.text
    rule = ExceptionRule.objects.get()
    assert rule.label_selector == {"app": "web"}
    assert Finding.objects.get(check_id="privileged-container").status == FindingStatus.RISK_ACCEPTED


def test_a_refused_rule_shows_the_services_reason(client, team, admin_user):
    client.force_login(admin_user)
    until = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = client.post(
        reverse("findings:exception-create"),
        {"team": team.pk, "reason": "everything, please", "owner": admin_user.pk, "expires": until},
    )
    assert response.status_code == 200
    assert (
        "An exception must be narrower than everything: give a cluster, checks or a pattern" in response.text
    )
    assert not ExceptionRule.objects.exists()


def test_a_namespace_pattern_of_only_stars_is_not_narrower_than_everything(
    client, demo, platform, demo_admin
):
    client.force_login(demo_admin)
    until = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = client.post(
        reverse("findings:exception-create"),
        {
            "team": platform.pk,
            "reason": "x",
            "owner": demo_admin.pk,
            "expires": until,
            "namespace_pattern": "*",
        },
    )
    assert "a pattern of only * matches everything" in response.text
    assert not ExceptionRule.objects.exists()
    assert not Finding.objects.filter(status="risk_accepted").exists()


def test_an_exception_longer_than_allowed_is_refused(client, cluster, admin_user, settings):
    settings.RAMPART_MAX_RISK_ACCEPTANCE_DAYS = 30
    client.force_login(admin_user)
    until = (timezone.localdate() + timedelta(days=90)).isoformat()
    response = client.post(
        reverse("findings:exception-create"),
        {
            "team": cluster.team_id,
            "cluster": cluster.pk,
            "reason": "x",
            "owner": admin_user.pk,
            "expires": until,
        },
    )
    assert "An exception can last at most 30 days." in response.text


def test_malformed_labels_are_explained(client, cluster, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("findings:exception-create"),
        {
            "team": cluster.team_id,
            "labels": "app",
            "reason": "x",
            "owner": admin_user.pk,
            "expires": "2099-01-01",
        },
    )
    assert "“app” is not key=value." in response.text
    twice = client.post(
        reverse("findings:exception-create"),
        {"team": cluster.team_id, "labels": "app=web, app=api", "reason": "x", "owner": admin_user.pk},
    )
    assert "“app” is given twice: an object has one value per label." in twice.text
    assert not ExceptionRule.objects.exists()


def test_only_admins_create_exceptions(client, cluster, engineer, viewer):
    for user in (engineer, viewer):
        client.force_login(user)
        assert client.get(reverse("findings:exception-create")).status_code == 403
        assert client.post(reverse("findings:exception-create"), {}).status_code == 403


def test_revoking_reopens_the_findings_it_accepted(client, cluster, admin_user):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    rule = a_rule(cluster, admin_user)
    client.force_login(admin_user)
    response = client.post(reverse("findings:exception-revoke", args=[rule.pk]), follow=True)
    assert f"Exception #{rule.pk} revoked: 1 finding reopened." in response.text
    assert '<span class="state state-revoked">revoked</span>' in response.text
    assert Finding.objects.get(check_id="privileged-container").status == FindingStatus.OPEN


def test_an_engineer_cannot_revoke_and_another_team_cannot_see(
    client, cluster, admin_user, engineer, outsider
):
    rule = a_rule(cluster, admin_user)
    client.force_login(engineer)
    assert client.post(reverse("findings:exception-revoke", args=[rule.pk])).status_code == 403
    client.force_login(outsider)
    assert client.post(reverse("findings:exception-revoke", args=[rule.pk])).status_code == 404
    assert f'id="rule-{rule.pk}"' not in client.get(reverse("findings:exception-list")).text
    rule.refresh_from_db()
    assert rule.revoked_at is None


def test_no_exceptions_yet_explains_what_they_are(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("findings:exception-list")).text
    assert "No exceptions" in page
    assert reverse("findings:exception-create") in page


def test_the_list_does_not_query_per_rule(client, cluster, admin_user):
    client.force_login(admin_user)
    a_rule(cluster, admin_user, namespace_pattern="ns-0")
    with CaptureQueriesContext(connection) as one_rule:
        client.get(reverse("findings:exception-list"))
    for n in range(1, 5):
        a_rule(cluster, admin_user, namespace_pattern=f"ns-{n}")
    with CaptureQueriesContext(connection) as five_rules:
        page = client.get(reverse("findings:exception-list")).text
    assert len(five_rules) == len(one_rule)
    assert page.count('<tr id="rule-') == 5
