from django.urls import reverse

from findings.models import Finding
from posture.scanning.checks import load_catalogue
from tests.factories import as_yaml, deployment, scan_snapshot


def test_the_checks_page_lists_the_whole_catalogue_with_descriptions_and_fixes(client, viewer):
    catalogue = list(load_catalogue())
    client.force_login(viewer)
    page = client.get(reverse("findings:check-list")).text
    assert f"{len(catalogue)} checks" in page
    for check in catalogue:
        assert f'id="check-{check.id}"' in page
    assert "How to fix it" in page
    assert '<pre class="snippet"><code class="language-yaml">' in page


def test_each_check_shows_how_many_findings_are_open_in_the_users_clusters(client, cluster, viewer):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True), deployment("api", privileged=True)))
    open_count = Finding.objects.filter(cluster=cluster, check_id="privileged-container").count()
    client.force_login(viewer)
    page = client.get(reverse("findings:check-list")).text
    assert (
        f'check_id=privileged-container&amp;status=open&amp;status=acknowledged">{open_count} open</a>'
        in page
    )


def test_checks_filter_by_category_and_framework(client, viewer):
    client.force_login(viewer)
    page = client.get(reverse("findings:check-list"), {"category": "rbac"}).text
    assert 'id="check-privileged-container"' not in page
    page = client.get(reverse("findings:check-list"), {"framework": "pss-baseline"}).text
    assert 'id="check-privileged-container"' in page


def test_the_open_counts_are_one_aggregate_query(client, demo, demo_viewer, django_assert_max_num_queries):
    client.force_login(demo_viewer)
    with django_assert_max_num_queries(6):  # session, user, one aggregate, session save (3)
        client.get(reverse("findings:check-list"))
