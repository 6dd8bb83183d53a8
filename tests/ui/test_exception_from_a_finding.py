"""A team admin turns a finding into an exception for its check, cluster and namespace from its page."""

import re

from django.urls import reverse

from tests.factories import privileged_finding

LINK = re.compile(r'<a href="([^"]+)">Make an exception for this check…</a>')


def selected(form: str, field: str) -> list[str]:
    """The selected options of one select (a team's and a cluster's ids may be the same number)."""
    select = re.search(rf'<select name="{field}"[^>]*>(.*?)</select>', form, re.S)
    assert select, field
    return re.findall(r'<option value="([^"]*)" selected>', select[1])


def test_the_exception_form_opens_filled_in_with_the_findings_check_cluster_and_namespace(
    client, cluster, admin_user
):
    finding = privileged_finding(cluster, namespace="batch-jobs")
    client.force_login(admin_user)
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    form = client.get(LINK.search(page)[1].replace("&amp;", "&")).text
    assert selected(form, "check_ids") == ["privileged-container"]
    assert selected(form, "cluster") == [str(cluster.pk)]
    assert 'name="namespace_pattern" value="batch-jobs"' in form
    assert selected(form, "team") == [str(cluster.team_id)]


def test_an_engineer_who_cannot_make_exceptions_is_not_offered_one(client, cluster, engineer):
    finding = privileged_finding(cluster, namespace="batch-jobs")
    client.force_login(engineer)
    assert not LINK.search(client.get(reverse("findings:finding-detail", args=[finding.pk])).text)


def test_a_cluster_that_names_nothing_of_yours_leaves_the_form_to_be_filled_in(client, cluster, admin_user):
    from tests.factories import make_cluster, make_team

    elsewhere = make_cluster(make_team("Elsewhere"), name="theirs")
    client.force_login(admin_user)
    for value in (str(elsewhere.pk), "9" * 30, "x"):
        response = client.get(reverse("findings:exception-create"), {"cluster": value, "check": "host-pid"})
        assert response.status_code == 200
        assert str(elsewhere.pk) not in selected(response.text, "cluster")
