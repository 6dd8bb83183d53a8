"""Fixtures for the page tests: the demo cluster (seed_demo) and people of its team in every role."""

import re

import pytest
from django.core.management import call_command

from accounts.models import Membership, Role, Team
from posture.models import Cluster
from tests.factories import make_user
from tests.webhooks import receiver, webhook  # noqa: F401 - fixtures


@pytest.fixture
def demo(db, settings, tmp_path):
    """Five days of scans of a 20-workload demo cluster, owned by the team "Platform"."""
    settings.DATA_DIR = tmp_path
    call_command("seed_demo", days=5, workloads=20, stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Cluster.objects.select_related("team", "last_scan").get(name="demo-shop-prod")


@pytest.fixture
def platform(demo) -> Team:
    return demo.team


@pytest.fixture
def demo_viewer(platform):
    return make_user(platform, Role.VIEWER, username="vic")


@pytest.fixture
def demo_engineer(platform):
    return make_user(platform, Role.ENGINEER, username="eve")


@pytest.fixture
def demo_admin(platform):
    return make_user(platform, Role.ADMIN, username="abe")


@pytest.fixture
def stranger(db):
    """An admin of another team: sees none of Platform's clusters."""
    from tests.factories import make_team

    return make_user(make_team("Elsewhere"), Role.ADMIN, username="sam")


def htmx(**extra) -> dict:
    return {"headers": {"HX-Request": "true", **extra}}


def listed_count(client, href: str) -> int:
    """How many findings the findings list says a link leads to (the link as a page writes it)."""
    page = client.get(href.replace("&amp;", "&")).text
    return int(re.search(r'<p class="result-count muted">([\d,]+) finding', page)[1].replace(",", ""))


def card(page: str, title_id: str) -> str:
    """The section of a page whose heading has this id."""
    return page.split(f'id="{title_id}"')[1].split("</section>")[0]


@pytest.fixture
def lead(team, other_team):
    """A viewer of both teams: someone who reads the overview of more than one team."""
    person = make_user(team, Role.VIEWER, username="lena")
    Membership.objects.create(team=other_team, user=person, role=Role.VIEWER)
    return person
