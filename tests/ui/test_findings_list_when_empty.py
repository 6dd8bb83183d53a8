"""The findings menu opens the open and acknowledged findings: when there are none, it says why."""

import re

from django.urls import reverse

from tests.factories import as_yaml, deployment, make_user, scan_snapshot


def menu_link(client) -> str:
    return re.search(r'<a href="(/findings/[^"]*)"[^>]*>Findings</a>', client.get("/").text)[1].replace(
        "&amp;", "&"
    )


def test_someone_without_a_cluster_is_told_so_not_to_clear_filters_they_never_set(client, db):
    client.force_login(make_user(None, username="newbie"))
    page = client.get(menu_link(client)).text
    assert "No clusters yet" in page
    assert "your username is <strong>newbie</strong>" in page
    assert "No findings match these filters" not in page


def test_when_nothing_is_open_the_list_says_so_and_leads_to_the_rest(client, cluster, viewer, engineer):
    from findings import triage
    from findings.models import Finding

    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    triage.bulk_change_status(
        Finding.objects.filter(cluster=cluster), "false_positive", actor=engineer, reason="a lab cluster"
    )
    client.force_login(viewer)
    page = client.get(menu_link(client)).text
    assert "No findings match these filters" not in page
    assert "No open or acknowledged findings" in page
    assert f'<a href="{reverse("findings:finding-list")}">every finding</a>' in page


def test_filters_that_match_nothing_still_offer_to_clear_them(client, cluster, viewer):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    client.force_login(viewer)
    page = client.get(reverse("findings:finding-list"), {"status": "open", "check_id": "host-pid"}).text
    assert "No findings match these filters" in page
