"""Ingest tokens that expire: issued with a day, refused after it with a reason the agent can log,
and warned about on the cluster's pages while no token that lasts longer is there to take over."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Role
from posture.models import IngestToken, Scan
from tests.agent.test_snapshot_push_endpoint import _push
from tests.api.helpers import assert_error, token_for
from tests.factories import make_user


def _issue_on_the_page(client, cluster, **fields):
    page = client.get(reverse("posture:cluster-agent", args=[cluster.pk])).text
    once = re.search(r'name="once" value="([^"]+)"', page).group(1)
    return client.post(
        reverse("posture:cluster-agent", args=[cluster.pk]), {"name": "cronjob", "once": once, **fields}
    )


def _token(cluster, *, expires_in: timedelta | None, used: bool = True, name: str = "cronjob"):
    now = timezone.now()
    token, raw = IngestToken.issue(cluster, name, expires_at=now + expires_in if expires_in else None)
    if used:
        IngestToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token, raw


def test_an_admin_issues_a_token_that_expires_on_the_day_chosen(client, admin_user, agent_cluster):
    client.force_login(admin_user)
    day = timezone.localdate() + timedelta(days=90)

    response = _issue_on_the_page(client, agent_cluster, expires_on=day.isoformat())

    assert response.status_code == 201
    token = IngestToken.objects.get(cluster=agent_cluster)
    assert timezone.localtime(token.expires_at).date() == day
    event = AuditEvent.objects.get(action="ingest_token.created")
    assert event.details["expires_at"] == token.expires_at.isoformat()
    listed = client.get(reverse("posture:cluster-agent", args=[agent_cluster.pk])).text
    assert f'<time datetime="{token.expires_at:%Y-%m-%d}' in listed


def test_a_day_that_has_come_is_refused_and_no_token_is_issued(client, admin_user, agent_cluster):
    client.force_login(admin_user)

    response = _issue_on_the_page(client, agent_cluster, expires_on=timezone.localdate().isoformat())

    assert response.status_code == 400
    assert "Choose a day after today." in response.text
    assert not IngestToken.objects.exists()


def test_an_expired_token_is_refused_saying_when_and_what_to_do(client, agent_cluster):
    token, raw = _token(agent_cluster, expires_in=timedelta(days=1))
    IngestToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    token.refresh_from_db()

    error = assert_error(_push(client, agent_cluster, raw), 401)

    assert error["message"] == (
        f"This ingest token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC: "
        "issue a new one on the cluster's Agent page in Rampart "
        "and put it in the agent's Secret (rampart-agent-token)."
    )
    assert not Scan.objects.exists()


def test_an_expired_tokens_reason_is_told_only_to_whoever_holds_its_secret(client, agent_cluster):
    token, raw = _token(agent_cluster, expires_in=timedelta(days=1))
    IngestToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    guessed = raw[: raw.rindex("_") + 1] + "not-the-secret"

    error = assert_error(_push(client, agent_cluster, guessed), 401)

    assert error["message"] == "Invalid or revoked ingest token."


def test_a_token_until_its_expiry_pushes_as_any_other(client, agent_cluster):
    _token_row, raw = _token(agent_cluster, expires_in=timedelta(hours=1))

    assert _push(client, agent_cluster, raw).status_code == 202


def test_the_agent_page_shows_each_tokens_expiry_and_state(client, admin_user, agent_cluster):
    _token(agent_cluster, expires_in=None, name="forever")
    expired, _ = _token(agent_cluster, expires_in=timedelta(days=1), name="old")
    IngestToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    client.force_login(admin_user)

    page = client.get(reverse("posture:cluster-agent", args=[agent_cluster.pk])).text

    rows = dict(re.findall(r"<tr>\s*<td>(\w+)</td>(.*?)</tr>", page, re.S))  # token name -> its row
    assert '<span class="state state-expired">Expired</span>' in rows["old"]
    assert '<span class="state state-active">Active</span>' in rows["forever"]
    assert "<td>never</td>" in rows["forever"]


def test_the_cluster_page_warns_admins_while_the_agents_only_token_expires_within_two_weeks(
    client, admin_user, agent_cluster
):
    token, _ = _token(agent_cluster, expires_in=timedelta(days=10))
    client.force_login(admin_user)

    page = client.get(reverse("posture:cluster-detail", args=[agent_cluster.pk])).text

    assert 'id="token-expiry"' in page
    assert f"ingest token “{token.name}” expires on" in page
    assert reverse("posture:cluster-agent", args=[agent_cluster.pk]) in page
    agent_page = client.get(reverse("posture:cluster-agent", args=[agent_cluster.pk])).text
    assert 'id="token-expiry"' in agent_page


@pytest.mark.parametrize(
    "tokens",
    [
        [timedelta(days=30)],  # further off than two weeks
        [None],  # never expires
        [timedelta(days=10), timedelta(days=365)],  # a replacement was issued
        [timedelta(days=10), None],
    ],
    ids=["in-a-month", "never", "replaced-by-a-yearly-one", "replaced-by-one-without-end"],
)
def test_no_warning_while_a_token_lasts_longer(client, admin_user, agent_cluster, tokens):
    for index, expires_in in enumerate(tokens):
        _token(agent_cluster, expires_in=expires_in, name=f"token{index}")
    client.force_login(admin_user)

    page = client.get(reverse("posture:cluster-detail", args=[agent_cluster.pk])).text

    assert 'id="token-expiry"' not in page


def test_the_warning_names_the_token_the_agent_uses(agent_cluster):
    _token(agent_cluster, expires_in=timedelta(days=3), name="spare", used=False)
    in_use, _ = _token(agent_cluster, expires_in=timedelta(days=12), name="cronjob")

    assert agent_cluster.ingest_tokens.about_to_expire() == in_use


def test_engineers_are_not_shown_the_warning(client, team, agent_cluster):
    _token(agent_cluster, expires_in=timedelta(days=3))
    client.force_login(make_user(team, Role.ENGINEER, username="eng"))

    page = client.get(reverse("posture:cluster-detail", args=[agent_cluster.pk])).text

    assert 'id="token-expiry"' not in page


def test_the_api_issues_a_token_with_an_expiry_and_reports_its_state(client, admin_user, agent_cluster):
    admin = {"Authorization": f"Bearer {token_for(admin_user)}"}
    url = f"/api/v1/clusters/{agent_cluster.pk}/ingest-tokens/"
    expires_at = (timezone.now() + timedelta(days=30)).replace(microsecond=0)

    issued = client.post(
        url,
        {"name": "cron", "expires_at": expires_at.isoformat()},
        content_type="application/json",
        headers=admin,
    )

    assert issued.status_code == 201
    assert issued.json()["state"] == "active"
    assert IngestToken.objects.get().expires_at == expires_at
    past = client.post(
        url,
        {"name": "cron", "expires_at": (timezone.now() - timedelta(minutes=1)).isoformat()},
        content_type="application/json",
        headers=admin,
    )
    assert assert_error(past, 400)["fields"]["expires_at"] == ["Must be in the future."]
    assert IngestToken.objects.count() == 1
    IngestToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(url, headers=admin).json()[0]["state"] == "expired"
