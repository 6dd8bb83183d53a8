"""The site icon: every page's tab shows Rampart's shield, the admin's pages included."""

import re

from django.contrib.staticfiles import finders


def test_pages_link_the_icon_and_it_exists(client, viewer):
    client.force_login(viewer)
    page = client.get("/").text
    href = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert href.endswith("img/rampart.svg")
    assert finders.find("img/rampart.svg")


def test_a_browser_asking_for_favicon_ico_gets_the_icon(client):
    # The Django admin's pages link no icon, so browsers ask for /favicon.ico (it was a 404).
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[0][1] == 301
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(response.streaming_content)
