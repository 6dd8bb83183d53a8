"""The checks page shows a check's accepted risks beside its open findings: "none open" alone read as
nothing to worry about when every finding had been accepted."""

import re

from django.urls import reverse

from findings.models import Finding
from tests.factories import accept_risk, as_yaml, deployment, make_cluster, privileged_finding, scan_snapshot
from tests.ui.conftest import listed_count


def check_card(page: str, check_id: str) -> str:
    return page.split(f'id="check-{check_id}"')[1].split("</article>")[0]


def test_a_check_whose_findings_are_all_accepted_shows_its_accepted_risks_apart(
    client, cluster, engineer, viewer, django_capture_on_commit_callbacks
):
    accept_risk(privileged_finding(cluster), engineer, django_capture_on_commit_callbacks)
    client.force_login(viewer)
    card = check_card(client.get(reverse("findings:check-list")).text, "privileged-container")
    assert "none open" in card
    href = re.search(r'<a class="check-accepted" href="([^"]+)"[^>]*>1 accepted risk</a>', card)[1]
    assert href == "/findings/?check_id=privileged-container&amp;status=risk_accepted"
    assert listed_count(client, href) == 1


def test_open_findings_and_accepted_risks_of_one_check_are_counted_apart(
    client, cluster, engineer, viewer, django_capture_on_commit_callbacks
):
    scan_snapshot(
        cluster,
        as_yaml(*(deployment(name, privileged=True) for name in ("web", "api", "worker"))),
    )
    accept_risk(
        Finding.objects.get(cluster=cluster, check_id="privileged-container", name="web"),
        engineer,
        django_capture_on_commit_callbacks,
    )
    client.force_login(viewer)
    page = client.get(reverse("findings:check-list")).text
    card = check_card(page, "privileged-container")
    open_href = re.search(r'<a href="([^"]+)">2 open</a>', card)[1]
    assert listed_count(client, open_href) == 2
    assert ">1 accepted risk</a>" in card
    assert "· 1 accepted risk besides</p>" in page.split("</h1>")[1].split("</div>")[0]


def test_another_teams_accepted_risks_are_not_counted(
    client, cluster, engineer, other_team, outsider, viewer, django_capture_on_commit_callbacks
):
    accept_risk(privileged_finding(cluster), engineer, django_capture_on_commit_callbacks)
    accept_risk(privileged_finding(make_cluster(other_team)), outsider, django_capture_on_commit_callbacks)
    client.force_login(viewer)
    page = client.get(reverse("findings:check-list")).text
    assert ">1 accepted risk</a>" in check_card(page, "privileged-container")
    assert "· 1 accepted risk besides</p>" in page
