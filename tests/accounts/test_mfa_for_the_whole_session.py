"""The second-factor policy holds for a whole session, not only when it began.

A session that started with the password alone outlives changes that make a second factor
required of its user: a team admin promoting them, an admin turning theirs off. Until they set
one up, pages lead to the enrolment and the API refuses the session.
"""

import pytest

from accounts.models import Role
from tests.accounts.conftest import START, enrol, password_step, totp_code
from tests.api.helpers import Api, token_for
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

ENROL = "/accounts/security/mfa/enrol/"
REQUIRED = "Your account must use two-factor authentication: set it up to carry on."


def test_a_viewer_made_admin_mid_session_must_set_up_a_second_factor_before_going_on(
    client, viewer, admin_user, cluster, mfa_policy, clock
):
    mfa_policy("admins")
    password_step(client, "vera")  # a viewer: the password alone is enough
    assert client.get("/clusters/").status_code == 200

    promoted = Api(client.__class__(), token_for(admin_user)).patch(
        "/api/v1/teams/payments/members/vera/", {"role": Role.ADMIN}
    )
    assert promoted.status_code == 200, promoted.content

    page = client.get(f"/clusters/{cluster.pk}/edit/")
    assert (page.status_code, page.url) == (302, ENROL)
    assert REQUIRED in client.get(ENROL).text
    htmx = client.get("/findings/", headers={"HX-Request": "true"})
    assert (htmx.status_code, htmx.headers["HX-Redirect"]) == (204, ENROL)
    api = client.patch(
        f"/api/v1/clusters/{cluster.pk}/", {"description": "x"}, content_type="application/json"
    )
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "mfa_required"

    client.post(ENROL, {"code": totp_code(viewer, clock.now)})
    assert client.get(f"/clusters/{cluster.pk}/edit/").status_code == 200


def test_an_admin_who_turns_the_second_factor_off_cannot_go_on_without_one(
    client, admin_user, mfa_policy, clock
):
    mfa_policy("admins")
    enrol(admin_user, START)
    clock.advance(minutes=1)
    password_step(client, "ada")
    client.post("/accounts/login/verify/", {"code": totp_code(admin_user, clock.now)})
    assert client.get("/clusters/").status_code == 200

    client.post("/accounts/security/mfa/disable/", {"disable-password": TEST_PASSWORD})
    for path in ("/clusters/", "/accounts/teams/", "/accounts/tokens/"):
        response = client.get(path)
        assert (response.status_code, response.url) == (302, ENROL), path
    assert client.post("/accounts/logout/").status_code == 302


def test_users_the_policy_does_not_concern_are_never_sent_to_enrolment(
    client, viewer, admin_user, mfa_policy
):
    mfa_policy("admins")
    password_step(client, "vera")
    assert client.get("/findings/").status_code == 200
    mfa_policy("none")
    client.force_login(admin_user)
    assert client.get("/clusters/").status_code == 200
