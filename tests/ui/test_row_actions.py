from django.urls import reverse

from findings.models import Finding, FindingStatus
from tests.ui.conftest import htmx


def first_open(cluster):
    return Finding.objects.filter(cluster=cluster, status=FindingStatus.OPEN).order_by("pk").first()


def test_acknowledging_a_row_returns_just_the_updated_row(client, demo, demo_engineer):
    finding = first_open(demo)
    client.force_login(demo_engineer)
    response = client.post(
        reverse("findings:finding-status", args=[finding.pk]),
        {"to_status": "acknowledged", "partial": "row"},
        **htmx(),
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="finding-{finding.pk}"')
    assert "Finding acknowledged." in response.text
    assert '<span class="state state-acknowledged">Acknowledged</span>' in response.text
    assert ">Reopen</button>" in response.text
    finding.refresh_from_db()
    assert finding.status == FindingStatus.ACKNOWLEDGED


def test_assigning_a_row_returns_the_row_with_the_new_assignee(client, demo, demo_engineer):
    finding = first_open(demo)
    client.force_login(demo_engineer)
    response = client.post(
        reverse("findings:finding-assign", args=[finding.pk]),
        {"assignee": demo_engineer.pk, "partial": "row"},
        **htmx(),
    )
    assert response.text.lstrip().startswith("<tr ")
    assert f'<option value="{demo_engineer.pk}" selected>eve</option>' in response.text
    assert "Assigned to eve." in response.text
    finding.refresh_from_db()
    assert finding.assignee == demo_engineer


def test_a_refused_change_is_explained_in_the_row(client, demo, demo_engineer):
    finding = first_open(demo)
    client.force_login(demo_engineer)
    response = client.post(
        reverse("findings:finding-status", args=[finding.pk]),
        {"to_status": "false_positive", "partial": "row"},
        **htmx(),
    )
    assert "Marking a finding false positive needs a reason." in response.text
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


def test_someone_outside_the_team_cannot_be_assigned(client, demo, demo_engineer, stranger):
    finding = first_open(demo)
    client.force_login(demo_engineer)
    response = client.post(
        reverse("findings:finding-assign", args=[finding.pk]),
        {"assignee": stranger.pk, "partial": "row"},
        **htmx(),
    )
    assert "That person cannot be assigned findings of this team." in response.text
    finding.refresh_from_db()
    assert finding.assignee is None


def test_without_htmx_a_row_action_goes_back_to_the_finding_with_a_message(client, demo, demo_engineer):
    finding = first_open(demo)
    client.force_login(demo_engineer)
    response = client.post(
        reverse("findings:finding-status", args=[finding.pk]), {"to_status": "acknowledged"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("findings:finding-detail", args=[finding.pk])
    assert "Finding acknowledged." in client.get(response["Location"]).text


def test_a_viewer_cannot_triage_a_finding(client, demo, demo_viewer):
    finding = first_open(demo)
    client.force_login(demo_viewer)
    for name, data in [
        ("finding-status", {"to_status": "acknowledged"}),
        ("finding-assign", {"assignee": ""}),
        ("finding-comment", {"body": "hello"}),
    ]:
        assert client.post(reverse(f"findings:{name}", args=[finding.pk]), data).status_code == 403, name
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


def test_another_teams_finding_is_not_found(client, demo, stranger):
    finding = first_open(demo)
    client.force_login(stranger)
    assert client.get(reverse("findings:finding-detail", args=[finding.pk])).status_code == 404
    response = client.post(
        reverse("findings:finding-status", args=[finding.pk]), {"to_status": "acknowledged"}
    )
    assert response.status_code == 404


def test_a_reason_too_long_is_named_as_the_problem(client, demo, demo_engineer):
    finding = first_open(demo)
    client.force_login(demo_engineer)
    response = client.post(
        reverse("findings:finding-status", args=[finding.pk]),
        {"to_status": "risk_accepted", "reason": "x" * 2001, "until": "2099-01-01"},
        follow=True,
    )
    assert "Reason: Ensure this value has at most 2000 characters (it has 2001)." in response.text
    assert 'maxlength="2000" required' in response.text  # the browser stops it before sending
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN


def test_a_refused_risk_acceptance_keeps_the_row_form_open_with_what_was_typed(client, demo, demo_engineer):
    finding = first_open(demo)
    client.force_login(demo_engineer)
    response = client.post(
        reverse("findings:finding-status", args=[finding.pk]),
        {"to_status": "risk_accepted", "reason": 'vendor image, "fixed" in Q1', "partial": "row"},
        **htmx(),
    )
    row = response.text
    assert "Accepting a risk needs an expiry date." in row
    assert '<details class="more" open>' in row  # not folded away: the date is one field below
    assert '<option value="risk_accepted" selected>' in row
    assert 'value="vendor image, &quot;fixed&quot; in Q1"' in row
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
