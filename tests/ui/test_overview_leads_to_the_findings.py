"""The overview's figures lead to the findings they count, and new findings read as bad news."""

import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from tests.factories import accept_risk, as_yaml, deployment, privileged_finding, scan_snapshot
from tests.ui.conftest import listed_count


def test_the_open_findings_tile_lists_as_many_as_it_shows(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    page = client.get(reverse("home")).text
    tile = page.split('<p class="tile-label">Open findings</p>')[1].split("</div>")[0]
    href, shown = re.search(r'<a href="([^"]+)">([\d,]+)</a>', tile).groups()
    assert listed_count(client, href) == int(shown.replace(",", ""))


def test_this_weeks_new_findings_and_each_days_are_one_click_away(client, cluster, viewer):
    scan_snapshot(cluster, as_yaml(deployment("web")))
    scan_snapshot(cluster, as_yaml(deployment("web"), deployment("api", privileged=True)))
    client.force_login(viewer)
    page = client.get(reverse("home")).text
    tile = page.split('<p class="tile-label">Last 7 days</p>')[1].split("</div>")[0]
    href, shown = re.search(r'<a class="worse" href="([^"]+)"[^>]*>\+([\d,]+)</a>', tile).groups()
    assert listed_count(client, href) == int(shown)
    week = page.split('id="week-title"')[1].split("</table>")[0]
    days = re.findall(r'<td><a href="([^"]+)"[^>]*>([\d,]+)</a></td>', week)
    assert days  # today's two scans found something new
    for href, shown in days:
        assert listed_count(client, href) == int(shown)


def test_new_findings_are_painted_as_bad_news_not_in_the_green_of_good_news(client, cluster, viewer):
    scan = scan_snapshot(cluster, as_yaml(deployment("web", privileged=True)))
    client.force_login(viewer)
    stylesheet = (Path(settings.BASE_DIR) / "static/css/rampart.css").read_text()
    assert re.search(r"\.worse[^{]*\{[^}]*color: var\(--bad\)", stylesheet)
    assert '<a class="worse" href=' in client.get(reverse("home")).text
    scan_page = client.get(reverse("posture:scan-detail", args=[scan.pk])).text
    assert f'<span class="worse">{scan.new_count}</span> new' in scan_page


def test_both_breakdowns_say_that_they_count_accepted_risks_beside_the_open_tile(
    client, cluster, viewer, engineer, django_capture_on_commit_callbacks
):
    accept_risk(privileged_finding(cluster), engineer, django_capture_on_commit_callbacks)
    client.force_login(viewer)
    page = client.get(reverse("home")).text
    for card in ('id="sev-title"', 'id="cat-title"'):
        assert "1 accepted risk" in page.split(card)[1].split("</section>")[0], card
