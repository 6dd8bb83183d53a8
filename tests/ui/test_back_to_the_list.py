"""From a finding, "Findings" leads back to the list as it was left: filters, sort and page, at its row."""

import re

from django.urls import reverse

from findings.models import Finding
from tests.factories import as_yaml, deployment, scan_snapshot


def crumb(page: str) -> str:
    return re.search(r'<p class="crumbs"><a href="([^"]*)"', page)[1].replace("&amp;", "&")


def test_the_findings_crumb_returns_to_the_filtered_page_even_after_triage(client, cluster, engineer):
    scan_snapshot(cluster, as_yaml(*(deployment(f"web-{n}") for n in range(6))))
    client.force_login(engineer)
    left = "severity=low&sort=due&status=open&page=2"
    client.get(f"{reverse('findings:finding-list')}?{left}")
    finding = Finding.objects.filter(cluster=cluster, severity="low").first()
    detail = reverse("findings:finding-detail", args=[finding.pk])
    assert crumb(client.get(detail).text) == f"/findings/?{left}#finding-{finding.pk}"
    # Acknowledging reloads the finding: the browser's Back would now lead there first.
    client.post(reverse("findings:finding-status", args=[finding.pk]), {"to_status": "acknowledged"})
    assert crumb(client.get(detail).text) == f"/findings/?{left}#finding-{finding.pk}"


def test_without_a_list_seen_the_crumb_opens_what_the_menu_opens(client, cluster, viewer):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    client.force_login(viewer)
    finding = Finding.objects.filter(cluster=cluster).first()
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    menu = re.search(r'<a href="(/findings/[^"]*)"[^>]*>Findings</a>', client.get("/").text)[1]
    assert crumb(page) == menu.replace("&amp;", "&") + f"#finding-{finding.pk}"


def test_the_list_changed_through_htmx_is_the_one_remembered(client, cluster, viewer):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    client.force_login(viewer)
    client.get(reverse("findings:finding-list"), {"severity": "critical"}, headers={"HX-Request": "true"})
    finding = Finding.objects.filter(cluster=cluster).first()
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    assert crumb(page) == f"/findings/?severity=critical#finding-{finding.pk}"
