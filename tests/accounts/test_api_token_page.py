from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from tests.factories import create_token_on_page, make_user

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_new_token_is_shown_once_and_never_again(client, viewer):
    client.force_login(viewer)
    response = create_token_on_page(client, name="ci pipeline", scope="read")
    assert response.status_code == 201
    plaintext = response.context["plaintext"]
    assert plaintext.startswith("rpt_")
    assert plaintext in response.content.decode()
    assert response.headers["Cache-Control"].startswith("max-age=0")

    again = client.get("/accounts/tokens/").content.decode()
    secret = plaintext.split("_", 2)[2]
    assert secret not in again
    token = ApiToken.objects.get(user=viewer)
    assert f"rpt_{token.token_id}_…" in again  # the prefix only
    assert "ci pipeline" in again


def test_the_token_works_against_the_api_with_its_scope(client, viewer, cluster):
    client.force_login(viewer)
    plaintext = create_token_on_page(client, name="ci", scope="read").context["plaintext"]
    client.logout()
    assert client.get("/api/v1/clusters/", headers=bearer(plaintext)).status_code == 200
    token = ApiToken.objects.get(user=viewer)
    assert token.scope == ApiToken.Scope.READ


def test_a_token_can_expire_on_a_chosen_day(client, viewer):
    client.force_login(viewer)
    day = timezone.localdate() + timedelta(days=30)
    create_token_on_page(client, name="short-lived", scope="write", expires_on=day.isoformat())
    token = ApiToken.objects.get(user=viewer)
    assert timezone.localtime(token.expires_at).date() == day
    assert token.scope == ApiToken.Scope.WRITE


def test_an_expiry_in_the_past_is_refused(client, viewer):
    client.force_login(viewer)
    response = create_token_on_page(client, name="x", scope="read", expires_on="2020-01-01")
    assert response.status_code == 200
    assert "Choose a day after today" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoking_a_token_stops_it_at_once(client, viewer, cluster):
    token, plaintext = ApiToken.issue(viewer, "ci")
    client.force_login(viewer)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    client.logout()
    assert client.get("/api/v1/clusters/", headers=bearer(plaintext)).status_code == 401
    client.force_login(viewer)
    assert "Revoked" in client.get("/accounts/tokens/").content.decode()


def test_another_users_token_cannot_be_revoked_and_is_not_listed(client, viewer, team):
    other = make_user(team, username="olga")
    token, _ = ApiToken.issue(other, "olga's token")
    client.force_login(viewer)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert "olga&#x27;s token" not in client.get("/accounts/tokens/").content.decode()


def test_revoking_needs_a_post(client, viewer):
    token, _ = ApiToken.issue(viewer, "ci")
    client.force_login(viewer)
    assert client.get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405


def test_the_page_needs_a_login(client):
    response = client.get("/accounts/tokens/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_reloading_the_page_after_creating_a_token_does_not_create_another(client, viewer):
    client.force_login(viewer)
    once = client.get("/accounts/tokens/").context["once"]
    form = {"name": "ci pipeline", "scope": "read", "once": once}
    assert client.post("/accounts/tokens/", form).status_code == 201
    resent = client.post("/accounts/tokens/", form, follow=True)  # what F5 does after a POST
    assert ApiToken.objects.filter(user=viewer).count() == 1
    assert "That form was already sent" in resent.content.decode()
    assert "rpt_" not in str(resent.context.get("plaintext"))
