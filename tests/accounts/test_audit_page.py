import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from accounts import audit
from accounts.models import AuditEvent
from tests.accounts.conftest import START, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", password="x" * 16)


@pytest.fixture
def events(viewer, admin_user, cluster):
    AuditEvent.objects.all().delete()  # registering the cluster fixture was audited too
    audit.record("login.failed", at=START, username="mallory")
    audit.record("login.succeeded", actor=viewer, target=viewer, at=START.replace(day=3))
    audit.record(
        "cluster.updated", actor=admin_user, target=cluster, at=START.replace(day=4), fields=["name"]
    )
    audit.record("cluster.created", actor=admin_user, target=cluster, at=START.replace(day=5), ip="192.0.2.1")


def test_only_administrators_may_see_it(client, admin_user, superuser):
    assert client.get("/accounts/audit/").status_code == 302  # to the login page
    sign_in(client, admin_user)  # a team admin is not a Rampart administrator
    assert client.get("/accounts/audit/").status_code == 403
    assert client.get("/accounts/audit/export.csv").status_code == 403
    sign_in(client, superuser)
    assert client.get("/accounts/audit/").status_code == 200


def test_the_view_permission_opens_it_to_a_non_superuser(client, viewer):
    viewer.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    sign_in(client, viewer)
    response = client.get("/accounts/audit/")
    assert response.status_code == 200
    # The nav link is shown to staff only: checking permissions on every page
    # for every user would cost two queries each time.
    assert 'href="/accounts/audit/"' not in response.content.decode()
    viewer.is_staff = True
    viewer.save()
    assert 'href="/accounts/audit/"' in client.get("/accounts/audit/").content.decode()


def test_the_nav_costs_no_permission_query_for_ordinary_users(client, viewer):
    sign_in(client, viewer)
    with CaptureQueriesContext(connection) as queries:
        client.get("/accounts/tokens/")
    assert not [q["sql"] for q in queries.captured_queries if "auth_permission" in q["sql"]]


def test_it_lists_events_newest_first(client, superuser, events):
    sign_in(client, superuser)
    response = client.get("/accounts/audit/")
    assert [e.action for e in response.context["events"]] == [
        "cluster.created",
        "cluster.updated",
        "login.succeeded",
        "login.failed",
    ]
    assert "prod-eu" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "login.failed"}, ["login.failed"]),
        ({"action": "cluster."}, ["cluster.created", "cluster.updated"]),
        ({"actor": "ADA"}, ["cluster.created", "cluster.updated"]),
        ({"actor": "system"}, ["login.failed"]),
        ({"date_from": "2026-03-03", "date_to": "2026-03-04"}, ["cluster.updated", "login.succeeded"]),
    ],
)
def test_it_filters_by_action_actor_and_dates(client, superuser, events, query, expected):
    sign_in(client, superuser)
    response = client.get("/accounts/audit/", query)
    assert [e.action for e in response.context["events"]] == expected


def test_the_csv_export_streams_the_filtered_events(client, superuser, events):
    sign_in(client, superuser)
    response = client.get("/accounts/audit/export.csv", {"actor": "ada"})
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="rampart-audit-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["action"], r["actor"], r["target_label"]) for r in rows] == [
        ("cluster.updated", "ada", "prod-eu"),
        ("cluster.created", "ada", "prod-eu"),
    ]
    assert rows[0]["details"] == '{"fields": ["name"]}'
    assert rows[1]["ip"] == "192.0.2.1"


def test_the_csv_export_defuses_spreadsheet_formulas(client, superuser):
    audit.record("cluster.created", target='=HYPERLINK("http://evil.example")')
    sign_in(client, superuser)
    response = client.get("/accounts/audit/export.csv")
    row = next(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert row["target_label"] == '\'=HYPERLINK("http://evil.example")'


def test_exporting_is_itself_audited(client, superuser):
    sign_in(client, superuser)
    b"".join(client.get("/accounts/audit/export.csv", {"action": "login."}).streaming_content)
    event = AuditEvent.objects.get(action="audit.exported")
    assert event.actor == superuser
    assert event.details == {"filters": {"action": "login."}}


def test_a_triage_change_names_its_finding_and_reads_as_words(client, superuser, cluster, engineer):
    from findings import triage
    from findings.models import Finding
    from tests.factories import as_yaml, deployment, scan_snapshot

    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    finding = Finding.objects.get(check_id="privileged-container")
    triage.change_status(finding, "false_positive", actor=engineer, reason="lab namespace")
    event = AuditEvent.objects.get(action="triage.status_changed")
    assert (event.target_type, event.target_id) == ("findings.finding", str(finding.pk))
    client.force_login(superuser)
    page = client.get("/accounts/audit/", {"action": "triage.status_changed"}).content.decode()
    assert "privileged-container on Deployment shop/web" in page
    assert '<span class="muted">to status:</span> false_positive' in page
    assert '<span class="muted">reason:</span> lab namespace' in page


def test_a_triage_change_on_a_cluster_scoped_object_names_it_without_a_slash(
    client, superuser, cluster, engineer
):
    from findings import triage
    from findings.models import Finding
    from tests.factories import as_yaml, scan_snapshot

    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "ci-deployer-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "ci-deployer", "namespace": "ci"}],
    }
    scan_snapshot(cluster, as_yaml(binding))
    finding = Finding.objects.get(check_id="cluster-admin-binding")
    triage.change_status(finding, "acknowledged", actor=engineer)
    client.force_login(superuser)
    page = client.get("/accounts/audit/", {"action": "triage.status_changed"}).content.decode()
    assert "cluster-admin-binding on ClusterRoleBinding ci-deployer-admin" in page
    assert "ClusterRoleBinding /" not in page
