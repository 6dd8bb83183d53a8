"""The findings list's assignee filter names whose findings it shows, also to a viewer (a team lead
following the overview's "by assignee" links): it offered only the people the user may assign
findings to, none to a viewer, so the select read "Anyone" and the next change of the form dropped it."""

import re

from django.urls import reverse

from accounts.models import Membership
from findings import triage
from findings.models import Finding
from tests.factories import make_cluster, privileged_finding


def selected_assignee(page: str) -> str:
    select = page.split('<select id="id_assignee" name="assignee">')[1].split("</select>")[0]
    return re.search(r"<option[^>]*selected[^>]*>([^<]+)</option>", select)[1]


def test_a_viewer_sees_whose_findings_the_list_shows(client, cluster, engineer, viewer):
    triage.assign(Finding.objects.filter(pk=privileged_finding(cluster).pk), engineer, actor=engineer)
    client.force_login(viewer)
    page = client.get(reverse("findings:finding-list"), {"assignee": engineer.pk}).text
    assert selected_assignee(page) == engineer.get_username()
    assert '<p class="result-count muted">1 finding' in page


def test_someone_who_left_the_team_is_still_named_while_they_hold_its_findings(
    client, cluster, engineer, viewer
):
    triage.assign(Finding.objects.filter(pk=privileged_finding(cluster).pk), engineer, actor=engineer)
    Membership.objects.filter(user=engineer).delete()
    client.force_login(viewer)
    page = client.get(reverse("findings:finding-list"), {"assignee": engineer.pk}).text
    assert selected_assignee(page) == engineer.get_username()


def test_an_id_of_someone_holding_none_of_ones_findings_reveals_no_name(
    client, cluster, other_team, outsider, viewer
):
    elsewhere = privileged_finding(make_cluster(other_team))
    triage.assign(Finding.objects.filter(pk=elsewhere.pk), outsider, actor=outsider)
    client.force_login(viewer)
    page = client.get(reverse("findings:finding-list"), {"assignee": outsider.pk}).text
    assert selected_assignee(page) == f"User #{outsider.pk}"
    assert outsider.get_username() not in page
