import csv
import io

import orjson
import pytest

from findings.models import Finding
from tests.api.helpers import assert_error, make_findings

pytestmark = pytest.mark.django_db


def _content(response) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


def test_the_csv_export_streams_only_the_filtered_findings(api, viewer, cluster):
    make_findings(cluster, 7, severity="critical", namespace="payments")
    make_findings(cluster, 5, severity="low")
    response = api(viewer).get("/api/v1/findings/export/csv/", {"severity": "critical"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(_content(response).decode())))
    assert len(rows) == 7
    assert {row["severity"] for row in rows} == {"critical"}
    assert {row["namespace"] for row in rows} == {"payments"}
    assert rows[0]["cluster_name"] == "prod-eu"


def test_the_json_export_streams_a_valid_array_with_the_same_filters(api, viewer, cluster):
    make_findings(cluster, 1201, severity="high")
    make_findings(cluster, 3, severity="low", status="resolved")
    response = api(viewer).get("/api/v1/findings/export/json/", {"status": "open"})
    rows = orjson.loads(_content(response))
    assert len(rows) == 1201
    assert {row["status"] for row in rows} == {"open"}
    assert rows == sorted(rows, key=lambda row: row["id"])


def test_an_empty_export_is_still_well_formed(api, viewer, cluster):
    assert orjson.loads(_content(api(viewer).get("/api/v1/findings/export/json/"))) == []
    assert _content(api(viewer).get("/api/v1/findings/export/csv/")).decode().startswith("id,cluster,")


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_defused(api, viewer, cluster):
    finding = make_findings(cluster, 1)[0]
    Finding.objects.filter(pk=finding.pk).update(name='=HYPERLINK("http://evil")', namespace="@sum")
    rows = list(
        csv.DictReader(io.StringIO(_content(api(viewer).get("/api/v1/findings/export/csv/")).decode()))
    )
    assert rows[0]["name"].startswith("'=")
    assert rows[0]["namespace"] == "'@sum"


def test_exports_are_scoped_to_your_teams_and_need_authentication(api, outsider, cluster):
    make_findings(cluster, 2)
    assert orjson.loads(_content(api(outsider).get("/api/v1/findings/export/json/"))) == []
    assert_error(api().get("/api/v1/findings/export/csv/"), 401, "not_authenticated")
    assert_error(api(outsider).get("/api/v1/findings/export/csv/", {"severity": "bogus"}), 400, "invalid")


def _csv_rows(content: bytes) -> list:
    return list(csv.DictReader(io.StringIO(content.decode())))


@pytest.mark.parametrize(
    ("export", "accept", "content_type", "rows_of"),
    [
        *(
            ("csv", accept, "text/csv; charset=utf-8", _csv_rows)
            for accept in ("text/csv", "text/csv; charset=utf-8", "text/*", "*/*", None)
        ),
        *(("json", accept, "application/json", orjson.loads) for accept in ("application/json", "*/*", None)),
    ],
)
def test_an_export_answers_a_client_that_accepts_its_media_type(
    api, viewer, cluster, export, accept, content_type, rows_of
):
    make_findings(cluster, 2)
    headers = {"Accept": accept} if accept else {}
    response = api(viewer).get(f"/api/v1/findings/export/{export}/", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert len(rows_of(_content(response))) == 2


def test_an_export_refuses_an_accept_header_that_excludes_its_media_type_and_errs_in_json(api, viewer):
    client = api(viewer)
    for path, other in [("csv", "application/json"), ("json", "text/csv")]:
        refused = client.get(f"/api/v1/findings/export/{path}/", Accept=other)
        assert assert_error(refused, 406, "not_acceptable")
        assert refused["Content-Type"] == "application/json"
    invalid = client.get("/api/v1/findings/export/csv/", {"severity": "bogus"}, Accept="text/csv")
    assert assert_error(invalid, 400, "invalid")["fields"] == {
        "severity": ["Select a valid choice. bogus is not one of the available choices."]
    }
    assert invalid["Content-Type"] == "application/json"


@pytest.fixture
def varied_findings(cluster, engineer, admin_user):
    """Findings with every optional field set on one and empty on another."""
    from datetime import timedelta

    from django.utils import timezone

    from findings.models import ExceptionRule

    plain, held, resolved = make_findings(cluster, 3)
    rule = ExceptionRule.objects.create(
        team=cluster.team,
        cluster=cluster,
        reason="lab",
        owner=admin_user,
        expires_at=timezone.now() + timedelta(9),
    )
    Finding.objects.filter(pk=held.pk).update(
        status="risk_accepted",
        exception_rule=rule,
        risk_accepted_until=rule.expires_at,
        assignee=engineer,
        evidence={"path": "spec.containers[0]", "value": True},
    )
    Finding.objects.filter(pk=resolved.pk).update(status="resolved", resolved_at=timezone.now(), due_at=None)
    return [plain, held, resolved]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_an_export_row_is_the_finding_as_the_list_gives_it(api, viewer, varied_findings, settings, zone):
    settings.TIME_ZONE = zone
    client = api(viewer)
    listed = {row["id"]: row for row in client.get("/api/v1/findings/").json()["results"]}
    exported = orjson.loads(_content(client.get("/api/v1/findings/export/json/")))
    assert len(exported) == len(listed) == 3
    for row in exported:
        assert row.pop("cluster_name") == "prod-eu"
        assert row == listed[row["id"]]
    csv_rows = list(
        csv.DictReader(io.StringIO(_content(client.get("/api/v1/findings/export/csv/")).decode()))
    )
    for row in csv_rows:
        assert row.pop("cluster_name") == "prod-eu"
        expected = {
            name: "" if value is None else str(value) for name, value in listed[int(row["id"])].items()
        }
        del expected["evidence"]  # the JSON export's alone: a nested object fits no cell
        assert row == expected
