from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership, Role
from findings.models import Comment, Finding, FindingEvent
from tests.api.helpers import assert_error, make_findings
from tests.factories import make_cluster

pytestmark = pytest.mark.django_db


def test_thousands_of_findings_are_acknowledged_by_filter_in_one_request(api, engineer, cluster):
    make_findings(cluster, 3000, severity="medium")
    make_findings(cluster, 5, severity="critical")
    response = api(engineer).post(
        "/api/v1/findings/bulk-acknowledge/", {"filter": {"severity": ["medium"]}, "reason": "sprint 12"}
    )
    assert response.json() == {"matched": 3000, "changed": 3000, "refused": 0}
    assert Finding.objects.filter(status="acknowledged").count() == 3000
    assert FindingEvent.objects.filter(to_value="acknowledged", reason="sprint 12").count() == 3000
    assert Finding.objects.filter(severity="critical", status="open").count() == 5


def test_by_ids_the_changes_the_table_refuses_are_counted_not_made(api, engineer, cluster):
    open_ones = make_findings(cluster, 3)
    resolved = make_findings(cluster, 2, status="resolved")
    ids = [f.pk for f in open_ones + resolved]
    until = (timezone.now() + timedelta(days=10)).isoformat()
    body = {"ids": ids, "reason": "vendor image", "until": until}
    response = api(engineer).post("/api/v1/findings/bulk-accept-risk/", body)
    assert response.json() == {"matched": 5, "changed": 3, "refused": 2}


def test_every_bulk_action_works_by_ids(api, engineer, viewer, cluster):
    findings = make_findings(cluster, 4)
    ids = [f.pk for f in findings]
    client = api(engineer)
    assert (
        client.post("/api/v1/findings/bulk-false-positive/", {"ids": ids[:2], "reason": "lab"}).json()[
            "changed"
        ]
        == 2
    )
    assert client.post("/api/v1/findings/bulk-reopen/", {"ids": ids[:2]}).json()["changed"] == 2
    assert (
        client.post("/api/v1/findings/bulk-assign/", {"ids": ids, "assignee": "vera"}).json()["changed"] == 4
    )
    assert Finding.objects.filter(assignee=viewer).count() == 4
    assert (
        client.post("/api/v1/findings/bulk-comment/", {"ids": ids, "body": "tracked in JIRA-1"}).json()[
            "changed"
        ]
        == 4
    )
    assert Comment.objects.filter(body="tracked in JIRA-1").count() == 4


def test_a_selection_needs_ids_or_a_filter_and_a_valid_one(api, engineer, cluster):
    make_findings(cluster, 2)
    client = api(engineer)
    url = "/api/v1/findings/bulk-acknowledge/"
    assert_error(client.post(url, {}), 400, "invalid")
    assert_error(client.post(url, {"ids": [1], "filter": {}}), 400, "invalid")
    assert_error(client.post(url, {"ids": []}), 400, "invalid")
    assert_error(client.post(url, {"ids": ["one"]}), 400, "invalid")
    assert_error(client.post(url, {"ids": list(range(1, 10_002))}), 400, "invalid")
    assert_error(client.post(url, {"filter": {"severity": "apocalyptic"}}), 400, "invalid")
    assert_error(client.post(url, {"filter": {"severity": {"nested": 1}}}), 400, "invalid")
    assert_error(client.post(url, {"filter": "severity=high"}), 400, "invalid")


def test_a_misspelt_filter_key_is_refused_rather_than_selecting_everything(api, engineer, cluster):
    make_findings(cluster, 3)
    response = api(engineer).post(
        "/api/v1/findings/bulk-acknowledge/", {"filter": {"clusterr": cluster.pk}, "reason": "typo"}
    )
    assert_error(response, 400, "invalid")
    assert "clusterr" in response.json()["error"]["fields"]["filter"]
    assert Finding.objects.filter(status="open").count() == 3


@pytest.mark.parametrize(
    "selection",
    [{"overdue": 1}, {"overdue": "yes"}, {"overdue": "TRUE"}],
    ids=["one", "yes", "upper-case"],
)
def test_overdue_reads_yes_as_people_and_libraries_write_it(api, engineer, cluster, selection):
    make_findings(cluster, 3)
    make_findings(cluster, 2, due_at=timezone.now() - timedelta(days=1))
    response = api(engineer).post("/api/v1/findings/bulk-acknowledge/", {"filter": selection})
    assert response.json() == {"matched": 2, "changed": 2, "refused": 0}
    assert Finding.objects.filter(status="open").count() == 3


@pytest.mark.parametrize(
    "selection",
    [
        {"overdue": "maybe"},
        {"overdue": 2},
        {"severity": []},
        {"cluster": ""},
        {"check_id": None},
        {"q": "   "},
        {"status": ["open", ""]},
    ],
    ids=["maybe", "two", "no-severities", "empty-cluster", "null-check", "blank-search", "one-blank"],
)
def test_a_filter_value_that_selects_nothing_in_particular_is_refused_not_read_as_everything(
    api, engineer, cluster, selection
):
    make_findings(cluster, 3)
    response = api(engineer).post("/api/v1/findings/bulk-acknowledge/", {"filter": selection})
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]["filter"]) == set(selection)
    assert Finding.objects.filter(status="open").count() == 3


def test_bulk_triage_is_refused_when_the_selection_reaches_a_team_where_you_only_view(
    api, engineer, cluster, other_team
):
    foreign = make_cluster(other_team, name="search-prod")
    Membership.objects.create(team=other_team, user=engineer, role=Role.VIEWER)
    make_findings(cluster, 2)
    make_findings(foreign, 2)
    client = api(engineer)
    assert_error(client.post("/api/v1/findings/bulk-acknowledge/", {"filter": {}}), 403, "permission_denied")
    narrowed = client.post("/api/v1/findings/bulk-acknowledge/", {"filter": {"cluster": cluster.pk}})
    assert narrowed.json()["changed"] == 2
    assert Finding.objects.filter(cluster=foreign, status="open").count() == 2


def test_ids_of_another_team_are_not_matched(api, outsider, engineer, cluster):
    ids = [f.pk for f in make_findings(cluster, 3)]
    response = api(outsider).post("/api/v1/findings/bulk-acknowledge/", {"ids": ids})
    assert response.json() == {"matched": 0, "changed": 0, "refused": 0}
    assert Finding.objects.filter(status="open").count() == 3


def test_viewers_cannot_bulk_triage(api, viewer, cluster):
    ids = [f.pk for f in make_findings(cluster, 2)]
    assert_error(api(viewer).post("/api/v1/findings/bulk-acknowledge/", {"ids": ids}), 403)
    assert_error(api(viewer).post("/api/v1/findings/bulk-comment/", {"ids": ids, "body": "x"}), 403)
