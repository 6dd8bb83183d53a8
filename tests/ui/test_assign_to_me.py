"""An engineer takes a finding with one press on its page."""

from django.urls import reverse

from tests.factories import privileged_finding

BUTTON = '<button type="submit">Assign to me</button>'


def test_assign_to_me_takes_the_finding_and_then_is_no_longer_offered(client, cluster, engineer):
    finding = privileged_finding(cluster)
    client.force_login(engineer)
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    assert BUTTON in page
    form = page.split(BUTTON)[0].rsplit("<form", 1)[1]
    assert f'name="assignee" value="{engineer.pk}"' in form
    response = client.post(reverse("findings:finding-assign", args=[finding.pk]), {"assignee": engineer.pk})
    finding.refresh_from_db()
    assert finding.assignee == engineer
    page = client.get(response.url).text
    assert f"Assigned to {engineer.get_username()}." in page
    assert BUTTON not in page


def test_a_viewer_is_not_offered_a_finding_to_take(client, cluster, viewer):
    finding = privileged_finding(cluster)
    client.force_login(viewer)
    assert BUTTON not in client.get(reverse("findings:finding-detail", args=[finding.pk])).text


def test_a_finding_that_is_closed_is_not_offered_to_take(client, cluster, engineer):
    from findings import triage

    finding = privileged_finding(cluster)
    triage.change_status(finding, "false_positive", actor=engineer, reason="a test fixture")
    client.force_login(engineer)
    assert BUTTON not in client.get(reverse("findings:finding-detail", args=[finding.pk])).text
