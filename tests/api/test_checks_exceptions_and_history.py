from datetime import timedelta

import pytest
from django.utils import timezone

from findings.models import ExceptionRule, Finding
from tests.api.helpers import assert_error, make_findings
from tests.factories import accept_risk

pytestmark = pytest.mark.django_db


def test_the_check_catalogue_lists_every_check_with_its_open_count(api, viewer, scanned):
    client = api(viewer)
    first = client.get("/api/v1/checks/", {"page_size": 500}).json()
    from posture.scanning.checks import load_catalogue

    assert first["count"] == len(load_catalogue())
    by_id = {row["id"]: row for row in first["results"]}
    assert by_id["privileged-container"]["open_count"] == 1
    assert by_id["privileged-container"]["severity"] == "critical"
    assert by_id["privileged-container"]["frameworks"]["pss"] == "baseline"
    one = client.get("/api/v1/checks/privileged-container/").json()
    assert one["open_count"] == 1
    assert_error(client.get("/api/v1/checks/no-such-check/"), 404, "not_found")
    critical = client.get("/api/v1/checks/", {"severity": "critical", "page_size": 500}).json()["results"]
    assert {row["severity"] for row in critical} == {"critical"}


def test_a_check_filter_value_that_names_nothing_is_refused_as_on_the_finding_list(api, viewer):
    client = api(viewer)
    error = assert_error(
        client.get("/api/v1/checks/", {"severity": "HIGH", "category": "rbca"}), 400, "invalid"
    )
    assert error["fields"] == {
        "category": ["Select a valid choice. rbca is not one of the available choices."],
        "severity": ["Select a valid choice. HIGH is not one of the available choices."],
    }
    assert_error(client.get("/api/v1/findings/", {"severity": "HIGH"}), 400, "invalid")
    both = client.get("/api/v1/checks/", {"severity": "high", "category": "rbac", "page_size": 500}).json()
    assert both["count"] > 0
    assert {(row["severity"], row["category"]) for row in both["results"]} == {("high", "rbac")}
    assert (
        client.get("/api/v1/checks/", {"severity": ""}).json()["count"]
        == client.get("/api/v1/checks/").json()["count"]
    )


def test_open_counts_only_count_your_teams_findings(api, outsider, scanned):
    rows = api(outsider).get("/api/v1/checks/", {"page_size": 500}).json()["results"]
    assert all(row["open_count"] == 0 for row in rows)


def test_a_checks_accepted_risks_are_counted_beside_its_open_findings_not_in_them(
    api, engineer, outsider, scanned, django_capture_on_commit_callbacks
):
    privileged = Finding.objects.get(cluster=scanned, check_id="privileged-container")
    accept_risk(privileged, engineer, django_capture_on_commit_callbacks)
    check = api(engineer).get("/api/v1/checks/privileged-container/").json()
    assert (check["open_count"], check["accepted_risk_count"]) == (0, 1)
    theirs = api(outsider).get("/api/v1/checks/privileged-container/").json()
    assert (theirs["open_count"], theirs["accepted_risk_count"]) == (0, 0)


def _rule(target, **extra):
    return {
        "cluster": target.pk,
        "check_ids": ["privileged-container"],
        "reason": "the CNI needs it",
        "owner": "ada",
        "expires_at": (timezone.now() + timedelta(days=30)).isoformat(),
        **extra,
    }


def test_an_admin_creates_an_exception_that_accepts_matching_findings_and_revokes_it(
    api, admin_user, cluster
):
    make_findings(cluster, 3)
    created = api(admin_user).post("/api/v1/exceptions/", _rule(cluster))
    assert created.status_code == 201, created.json()
    assert created.json()["findings_accepted"] == 3
    assert created.json()["team"] == "payments"
    assert Finding.objects.filter(status="risk_accepted").count() == 3
    rule_id = created.json()["id"]
    assert api(admin_user).get(f"/api/v1/exceptions/{rule_id}/").json()["created_by"] == "ada"
    assert api(admin_user).delete(f"/api/v1/exceptions/{rule_id}/").status_code == 204
    assert ExceptionRule.objects.get(pk=rule_id).revoked_at is not None
    assert Finding.objects.filter(status="open").count() == 3


def test_a_team_wide_exception_is_given_by_team_slug(api, admin_user, cluster):
    body = _rule(cluster, cluster=None, team_slug="payments", namespace_pattern="kube-*")
    assert api(admin_user).post("/api/v1/exceptions/", body).status_code == 201


def test_engineers_and_viewers_cannot_create_or_revoke_exceptions(api, engineer, viewer, admin_user, cluster):
    for user in (engineer, viewer):
        assert_error(api(user).post("/api/v1/exceptions/", _rule(cluster)), 403, "permission_denied")
    rule_id = api(admin_user).post("/api/v1/exceptions/", _rule(cluster)).json()["id"]
    assert_error(api(engineer).delete(f"/api/v1/exceptions/{rule_id}/"), 403)
    assert api(viewer).get("/api/v1/exceptions/").json()["count"] == 1


def test_exceptions_the_service_refuses_are_invalid_input(api, admin_user, cluster):
    client = api(admin_user)
    past = (timezone.now() - timedelta(days=1)).isoformat()
    assert_error(client.post("/api/v1/exceptions/", _rule(cluster, expires_at=past)), 400, "invalid")
    too_broad = _rule(cluster, cluster=None, team_slug="payments", check_ids=[])
    assert_error(client.post("/api/v1/exceptions/", too_broad), 400, "invalid")
    assert_error(client.post("/api/v1/exceptions/", _rule(cluster, cluster=None)), 400, "invalid")
    assert_error(client.post("/api/v1/exceptions/", _rule(cluster, check_ids=["Bad Id!"])), 400, "invalid")
    assert_error(client.post("/api/v1/exceptions/", _rule(cluster, owner="otto-never")), 400, "invalid")


def test_another_teams_exceptions_are_invisible(api, admin_user, outsider, cluster):
    rule_id = api(admin_user).post("/api/v1/exceptions/", _rule(cluster)).json()["id"]
    assert_error(api(outsider).get(f"/api/v1/exceptions/{rule_id}/"), 404)
    assert_error(api(outsider).delete(f"/api/v1/exceptions/{rule_id}/"), 404)
    assert_error(api(outsider).post("/api/v1/exceptions/", _rule(cluster)), 400, "invalid")


def test_history_lists_every_change_of_your_teams_findings_read_only(api, engineer, outsider, cluster):
    finding = make_findings(cluster, 1)[0]
    api(engineer).post(f"/api/v1/findings/{finding.pk}/acknowledge/")
    rows = api(engineer).get("/api/v1/history/", {"finding": finding.pk}).json()["results"]
    assert [(row["action"], row["to_value"]) for row in rows] == [("status", "acknowledged")]
    assert api(engineer).get(f"/api/v1/history/{rows[0]['id']}/").status_code == 200
    assert_error(api(engineer).delete(f"/api/v1/history/{rows[0]['id']}/"), 405)
    assert api(outsider).get("/api/v1/history/").json()["count"] == 0


def test_a_refused_exception_names_the_field_it_concerns_as_a_refused_acceptance_does(
    api, admin_user, engineer, cluster
):
    client = api(admin_user)
    too_late = (timezone.now() + timedelta(days=400)).isoformat()
    error = assert_error(
        client.post("/api/v1/exceptions/", _rule(cluster, expires_at=too_late)), 400, "invalid"
    )
    assert error["fields"] == {"expires_at": ["An exception can last at most 365 days."]}
    finding = make_findings(cluster, 1)[0]
    accepted = api(engineer).post(
        f"/api/v1/findings/{finding.pk}/accept-risk/", {"reason": "vendor", "until": too_late}
    )
    assert list(assert_error(accepted, 400, "invalid")["fields"]) == ["until"]
    bad_label = _rule(cluster, label_selector={"app": "-not-a-value-"})
    assert list(assert_error(client.post("/api/v1/exceptions/", bad_label), 400, "invalid")["fields"]) == [
        "label_selector"
    ]
    # A refusal about the rule as a whole names no field.
    everything = _rule(cluster, cluster=None, team_slug="payments", check_ids=[])
    error = assert_error(client.post("/api/v1/exceptions/", everything), 400, "invalid")
    assert "fields" not in error
    assert error["message"].startswith("An exception must be narrower than everything")
