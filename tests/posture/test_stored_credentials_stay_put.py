"""A stored token is only ever sent to the API server (and CA) it was given for."""

import pytest
from django.urls import reverse

from posture import services
from posture.models import Cluster, ConnectionMode
from tests.api.helpers import token_for

pytestmark = pytest.mark.django_db

TOKEN = "stored-token-value-0123456789abcdef"


@pytest.fixture
def live_cluster(team):
    cluster = Cluster(
        name="live", team=team, connection_mode=ConnectionMode.TOKEN, api_url="https://10.0.0.1:6443"
    )
    return services.save_cluster(cluster, credentials=TOKEN)


def test_the_rule_allows_the_same_address_and_refuses_a_new_one(live_cluster):
    usable = services.stored_credentials_usable
    assert usable(live_cluster, "token", api_url="https://10.0.0.1:6443")
    assert not usable(live_cluster, "token", api_url="https://attacker.example:6443")
    assert not usable(live_cluster, "token", api_url="https://10.0.0.1:6443", ca_bundle="-----BEGIN CERT")
    assert not usable(live_cluster, "kubeconfig")
    assert not usable(None, "token", api_url="https://10.0.0.1:6443")


def test_moving_the_api_url_in_the_form_needs_the_token_again(client, admin_user, live_cluster):
    client.force_login(admin_user)
    response = client.post(
        reverse("posture:cluster-edit", args=[live_cluster.pk]),
        {"name": "live", "team": live_cluster.team_id, "connection_mode": "token",
         "api_url": "https://attacker.example:6443"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "give the token again" in response.content.decode()
    live_cluster.refresh_from_db()
    assert live_cluster.api_url == "https://10.0.0.1:6443"


def test_moving_the_api_url_over_the_api_needs_the_credentials_again(client, admin_user, live_cluster):
    headers = {"Authorization": f"Bearer {token_for(admin_user)}"}
    response = client.patch(
        f"/api/v1/clusters/{live_cluster.pk}/",
        {"api_url": "https://attacker.example:6443"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 400
    assert "give the credentials again" in response.json()["error"]["fields"]["credentials"][0]
    same = client.patch(
        f"/api/v1/clusters/{live_cluster.pk}/", {"description": "edge"}, content_type="application/json",
        headers=headers,
    )  # fmt: skip
    assert same.status_code == 200
    live_cluster.refresh_from_db()
    assert live_cluster.get_credentials() == TOKEN


def test_the_same_ca_sent_back_by_a_browser_keeps_the_stored_token(client, admin_user, team):
    """A browser sends a textarea's lines ending in CRLF: a CA registered over the API (LF) is not a new
    CA when the settings page sends it back, so changing the schedule needs no token."""
    from tests.fakekube.pki import CertificateAuthority

    ca_pem = CertificateAuthority().cert_pem
    cluster = services.save_cluster(
        Cluster(name="api-made", team=team, connection_mode=ConnectionMode.TOKEN,
                api_url="https://10.0.0.1:6443", ca_bundle=ca_pem),
        credentials=TOKEN,
    )  # fmt: skip
    client.force_login(admin_user)
    response = client.post(
        reverse("posture:cluster-edit", args=[cluster.pk]),
        {"name": "api-made", "team": team.pk, "connection_mode": "token", "api_url": "https://10.0.0.1:6443",
         "ca_bundle": ca_pem.replace("\n", "\r\n"), "scan_interval_minutes": 60},
    )  # fmt: skip
    assert response.status_code == 302, "give the token again" in response.text
    cluster.refresh_from_db()
    assert cluster.scan_interval_minutes == 60
    assert cluster.get_credentials() == TOKEN
