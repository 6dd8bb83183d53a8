import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import as_yaml, deployment, make_lifecycle_cluster, scan_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def scanned(cluster):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True), deployment("api", hardened=True)))
    return cluster


def test_the_findings_page_lists_findings_of_the_users_clusters(client, viewer, scanned, other_team):
    foreign = make_lifecycle_cluster(other_team, name="foreign")
    scan_snapshot(foreign, as_yaml(deployment("hidden-app", privileged=True)))
    client.force_login(viewer)
    response = client.get(reverse("findings:finding-list"))
    assert "privileged-container" in response.text
    assert "Deployment shop/web" in response.text
    assert "hidden-app" not in response.text


def test_filters_narrow_the_list(client, viewer, scanned):
    client.force_login(viewer)
    response = client.get(reverse("findings:finding-list"), {"severity": "critical"})
    assert response.text.count('class="sev sev-critical"') == 1
    assert 'class="sev sev-high"' not in response.text


def test_htmx_filter_requests_get_only_the_results_partial(client, viewer, scanned):
    client.force_login(viewer)
    response = client.get(reverse("findings:finding-list"), {"q": "web"}, headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<div id="results">')
    assert "HX-Request" in response.headers["Vary"]


def test_the_list_does_not_query_per_row(client, viewer, scanned, team):
    client.force_login(viewer)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("findings:finding-list"))
    for n in range(5):
        scan_snapshot(
            make_lifecycle_cluster(team, name=f"extra-{n}"), as_yaml(deployment(f"app{n}", privileged=True))
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("findings:finding-list"))
    assert len(many) == len(few)
