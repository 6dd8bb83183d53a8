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


def test_the_total_counts_only_the_checks_the_filter_shows(client, cluster, viewer):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    open_findings = Finding.objects.filter(cluster=cluster, status="open")
    rbac_open = open_findings.filter(category="rbac").count()
    assert rbac_open < open_findings.count()
    client.force_login(viewer)
    page = client.get(reverse("findings:check-list"), {"category": "rbac"}).text
    assert f"· {rbac_open} open findings in your clusters" in page


def test_the_open_counts_are_one_aggregate_query_then_cached(
    client, demo, demo_viewer, django_assert_num_queries
):
    client.force_login(demo_viewer)
    # session, user, the visible clusters, one aggregate, saving the session (3), the navigation (an admin?)
    with django_assert_num_queries(8):
        client.get(reverse("findings:check-list"))
    with django_assert_num_queries(7):  # the counts come from the cache for a minute
        client.get(reverse("findings:check-list"))


def test_triage_in_the_pages_refreshes_the_cached_counts(client, demo, demo_engineer):
    finding = Finding.objects.filter(cluster=demo, status="open").first()
    client.force_login(demo_engineer)
    before = client.get(reverse("findings:check-list")).text
    marker = f'check_id={finding.check_id}&amp;status=open&amp;status=acknowledged">'
    count = int(before.split(marker)[1].split(" open</a>")[0])
    client.post(
        reverse("findings:finding-status", args=[finding.pk]),
        {"to_status": "false_positive", "reason": "test"},
    )
    after = client.get(reverse("findings:check-list")).text
    assert f"{marker}{count - 1} open</a>" in after or (count == 1 and marker not in after)


def test_the_rbac_category_is_written_rbac(client, viewer):
    client.force_login(viewer)
    page = client.get(reverse("findings:check-list")).text
    assert '<option value="rbac" >RBAC</option>' in page
    assert "Rbac" not in page
