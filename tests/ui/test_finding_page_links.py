"""A finding's page leads on: to its check in the catalogue, its object's and its namespace's findings."""

import re

from django.urls import reverse

from findings.models import Finding
from tests.factories import as_yaml, deployment, scan_snapshot


def links_on(page: str) -> dict[str, str]:
    return {
        text: href.replace("&amp;", "&")
        for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', page)
    }


def listed(client, url) -> set[int]:
    return {int(pk) for pk in re.findall(r'<tr id="finding-(\d+)"', client.get(url).text)}


def test_the_check_id_leads_to_the_check_in_the_catalogue(client, cluster, viewer):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    finding = Finding.objects.get(cluster=cluster, check_id="privileged-container")
    client.force_login(viewer)
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    href = links_on(page)["<code>privileged-container</code>"]
    path, anchor = href.split("#")
    assert f'id="{anchor}"' in client.get(path).text


def test_its_open_findings_are_the_objects_own_in_every_container_and_no_look_alikes(client, cluster, viewer):
    two_containers = deployment("web", privileged=True)
    pod = two_containers["spec"]["template"]["spec"]
    pod["containers"].append({"name": "sidecar", "image": "registry.example.com/proxy:1.0"})
    scan_snapshot(
        cluster,
        as_yaml(
            two_containers, deployment("web-admin", privileged=True), deployment("web", namespace="blog")
        ),
    )
    finding = Finding.objects.filter(cluster=cluster, namespace="shop", name="web").first()
    client.force_login(viewer)
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    shown = listed(client, links_on(page)["its open findings"])
    expected = set(
        Finding.objects.filter(cluster=cluster, namespace="shop", name="web").values_list("pk", flat=True)
    )
    assert shown == expected
    assert {"web", "sidecar"} <= set(Finding.objects.filter(pk__in=shown).values_list("container", flat=True))


def test_the_namespace_leads_to_the_open_findings_in_it(client, cluster, viewer):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True), deployment("api", namespace="blog")))
    finding = Finding.objects.filter(cluster=cluster, namespace="shop").first()
    client.force_login(viewer)
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    shown = listed(client, links_on(page)["shop"])
    assert shown == set(
        Finding.objects.filter(cluster=cluster, namespace="shop").values_list("pk", flat=True)
    )


def test_the_object_filter_is_named_above_the_list_and_can_be_dropped(client, cluster, viewer):
    scan_snapshot(cluster, as_yaml(deployment("web", privileged=True), deployment("api")))
    client.force_login(viewer)
    page = client.get(reverse("findings:finding-list"), {"object": "Deployment/shop/web"}).text
    assert "On Deployment/shop/web · " in page
    assert '<input type="hidden" name="object" value="Deployment/shop/web">' in page
    assert "show all findings</a>" in page
