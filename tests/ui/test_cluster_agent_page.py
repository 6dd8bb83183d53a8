"""The cluster's Agent page: a team admin connects an in-cluster agent without the API."""

import gzip
import re

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from posture.models import IngestToken
from tests.factories import as_json_list, deployment, make_cluster

SNAPSHOT = gzip.compress(as_json_list(deployment("web", privileged=True)))


@pytest.fixture
def agent_cluster(team):
    return make_cluster(team, name="edge-agent", connection_mode="agent")


def _issue(client, cluster, name="cronjob in prod-eu"):
    page = client.get(reverse("posture:cluster-agent", args=[cluster.pk])).text
    once = re.search(r'name="once" value="([^"]+)"', page).group(1)
    return client.post(reverse("posture:cluster-agent", args=[cluster.pk]), {"name": name, "once": once})


def _push(client, cluster, raw):
    return client.post(
        f"/api/v1/clusters/{cluster.pk}/snapshots",
        SNAPSHOT,
        content_type="application/gzip",
        headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": "agent-push-0001"},  # as the agent
    )


def test_an_admin_issues_a_token_shown_once_with_this_clusters_commands(client, agent_cluster, admin_user):
    client.force_login(admin_user)
    response = _issue(client, agent_cluster)
    assert response.status_code == 201
    raw = re.search(r'id="new-token" class="token-value" value="(rpi_[^"]+)"', response.text).group(1)
    assert f"--push http://testserver --cluster-id {agent_cluster.pk} --token-file ./token" in response.text
    assert f'RAMPART_CLUSTER_ID: "{agent_cluster.pk}"' in response.text
    token = IngestToken.objects.get(cluster=agent_cluster)
    assert token.name == "cronjob in prod-eu"
    assert token.created_by == admin_user
    assert raw not in client.get(reverse("posture:cluster-agent", args=[agent_cluster.pk])).text  # once
    assert AuditEvent.objects.filter(action="ingest_token.created", actor=admin_user).exists()

    # The token it showed is the one the push endpoint takes, and the page then lists the push.
    client.logout()
    assert _push(client, agent_cluster, raw).status_code == 202
    client.force_login(admin_user)
    page = client.get(reverse("posture:cluster-agent", args=[agent_cluster.pk])).text
    assert "HTTP 202" in page
    assert page.count("<td>never</td>") == 1  # the last push is known; "never" is the token's expiry


def test_the_commands_name_rampart_s_public_address_where_it_is_configured(
    client, settings, agent_cluster, admin_user
):
    # The admin may browse through an internal name; the agent must push to the public one.
    settings.RAMPART_BASE_URL = "https://rampart.example.com"
    client.force_login(admin_user)
    page = _issue(client, agent_cluster).text
    assert "RAMPART_URL: https://rampart.example.com</code>" in page
    assert f"--push https://rampart.example.com --cluster-id {agent_cluster.pk}" in page
    assert "testserver" not in page


def test_re_sending_the_form_does_not_mint_a_second_token(client, agent_cluster, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("posture:cluster-agent", args=[agent_cluster.pk])).text
    once = re.search(r'name="once" value="([^"]+)"', page).group(1)
    url = reverse("posture:cluster-agent", args=[agent_cluster.pk])
    assert client.post(url, {"name": "cronjob", "once": once}).status_code == 201
    again = client.post(url, {"name": "cronjob", "once": once}, follow=True)
    assert "That form was already sent" in again.text
    assert IngestToken.objects.filter(cluster=agent_cluster).count() == 1


def test_a_revoked_token_can_no_longer_push(client, agent_cluster, admin_user):
    client.force_login(admin_user)
    raw = re.search(r'value="(rpi_[^"]+)"', _issue(client, agent_cluster).text).group(1)
    token = IngestToken.objects.get(cluster=agent_cluster)
    response = client.post(
        reverse("posture:ingest-token-revoke", args=[agent_cluster.pk, token.pk]), follow=True
    )
    assert "Token “cronjob in prod-eu” revoked" in response.text
    assert '<span class="state state-revoked">Revoked</span>' in response.text
    client.logout()
    assert _push(client, agent_cluster, raw).status_code == 401
    assert AuditEvent.objects.filter(action="ingest_token.revoked").count() == 1


def test_a_name_is_required_and_nothing_is_issued_without_one(client, agent_cluster, admin_user):
    client.force_login(admin_user)
    response = _issue(client, agent_cluster, name="")
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert not IngestToken.objects.exists()


def test_a_cluster_read_over_its_api_says_why_it_takes_no_agent(client, cluster, admin_user):
    cluster.connection_mode = "token"
    cluster.save(update_fields=["connection_mode"])
    client.force_login(admin_user)
    page = client.get(reverse("posture:cluster-agent", args=[cluster.pk])).text
    assert "so pushes are refused" in page
    assert "Issue token" not in page
    assert not IngestToken.objects.exists()


def test_a_token_form_sent_after_the_cluster_went_live_issues_nothing(client, agent_cluster, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("posture:cluster-agent", args=[agent_cluster.pk])).text
    once = re.search(r'name="once" value="([^"]+)"', page).group(1)
    agent_cluster.connection_mode = "token"  # changed in another tab meanwhile
    agent_cluster.save(update_fields=["connection_mode"])
    refused = client.post(
        reverse("posture:cluster-agent", args=[agent_cluster.pk]), {"name": "late", "once": once}, follow=True
    )
    assert "is read by Rampart directly (API URL and bearer token)" in refused.text
    assert "rpi_" not in refused.text
    assert not IngestToken.objects.exists()


def test_the_cluster_page_leads_admins_to_the_agent(client, agent_cluster, admin_user, engineer):
    client.force_login(admin_user)
    page = client.get(reverse("posture:cluster-detail", args=[agent_cluster.pk])).text
    assert "0 active ingest tokens" in page
    assert reverse("posture:cluster-agent", args=[agent_cluster.pk]) in page
    client.force_login(engineer)
    page = client.get(reverse("posture:cluster-detail", args=[agent_cluster.pk])).text
    assert reverse("posture:cluster-agent", args=[agent_cluster.pk]) not in page


def test_only_the_teams_admins_manage_its_agent(client, agent_cluster, engineer, outsider):
    url = reverse("posture:cluster-agent", args=[agent_cluster.pk])
    client.force_login(engineer)
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "sneaky"}).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert not IngestToken.objects.exists()
