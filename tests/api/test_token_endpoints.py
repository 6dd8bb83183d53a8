import pytest

from accounts.models import ApiToken, AuditEvent
from tests.api.helpers import Api, assert_error, token_for

pytestmark = pytest.mark.django_db


def test_a_signed_in_user_issues_a_token_shown_once_and_it_works(client, viewer):
    client.force_login(viewer)
    response = client.post(
        "/api/v1/tokens/", {"name": "grafana", "scope": "read"}, content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    raw = response.json()["token"]
    assert raw.startswith("rpt_")
    assert response.json()["prefix"] == raw[: len(response.json()["prefix"])]
    listed = client.get("/api/v1/tokens/")
    assert raw not in listed.content.decode()
    assert listed.json()["results"][0]["name"] == "grafana"
    client.logout()
    assert Api(client, raw).get("/api/v1/clusters/").status_code == 200
    assert AuditEvent.objects.filter(action="token.created").exists()


def test_a_token_cannot_mint_another_token(client, engineer):
    assert_error(
        Api(client, token_for(engineer)).post("/api/v1/tokens/", {"name": "x"}), 403, "permission_denied"
    )
    assert ApiToken.objects.count() == 1


def test_users_see_and_revoke_only_their_own_tokens(client, viewer, engineer):
    mine, raw = ApiToken.issue(viewer, "mine", scope=ApiToken.Scope.WRITE)
    theirs, _ = ApiToken.issue(engineer, "theirs")
    api = Api(client, raw)
    assert [row["name"] for row in api.get("/api/v1/tokens/").json()["results"]] == ["mine"]
    assert_error(api.delete(f"/api/v1/tokens/{theirs.pk}/"), 404)
    assert api.delete(f"/api/v1/tokens/{mine.pk}/").status_code == 204
    assert_error(api.get("/api/v1/tokens/"), 401, "authentication_failed")


def test_a_bad_expiry_or_scope_is_invalid(client, viewer):
    client.force_login(viewer)
    for body in ({"name": "x", "scope": "root"}, {"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, {}):
        response = client.post("/api/v1/tokens/", body, content_type="application/json")
        assert_error(response, 400, "invalid")
