import pytest

from accounts import mfa
from accounts.models import TotpDevice
from tests.accounts.conftest import START, enrol, is_logged_in, password_step, totp_code
from tests.factories import TEST_PASSWORD
from tests.posture.test_settings import manage, production_env

pytestmark = pytest.mark.django_db


def test_the_default_policy_requires_two_factor_for_admins(tmp_path):
    env = production_env(tmp_path)
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.RAMPART_MFA_REQUIRED)", env=env
    )
    assert result.stdout.strip().splitlines()[-1] == "admins", result.stderr


def test_an_admin_without_two_factor_is_sent_to_enrolment_and_not_logged_in(client, admin_user, mfa_policy):
    mfa_policy("admins")
    response = password_step(client, "ada")
    assert response.status_code == 302
    assert response.url == "/accounts/login/enrol/"
    assert not is_logged_in(client)
    assert client.get("/clusters/").status_code == 302
    page = client.get("/accounts/login/enrol/")
    assert page.status_code == 200
    assert "must use a second factor" in page.content.decode()


def test_the_admin_is_logged_in_once_enrolment_is_confirmed(client, admin_user, mfa_policy, clock):
    mfa_policy("admins")
    client.post("/accounts/login/", {"username": "ada", "password": TEST_PASSWORD, "next": "/findings/"})
    client.get("/accounts/login/enrol/")
    response = client.post("/accounts/login/enrol/", {"code": totp_code(admin_user, clock.now)})
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10
    assert response.context["continue_url"] == "/findings/"
    assert is_logged_in(client)
    assert mfa.is_enrolled(admin_user)


def test_a_superuser_without_a_team_counts_as_an_admin(mfa_policy, django_user_model):
    mfa_policy("admins")
    root = django_user_model.objects.create_superuser("root", password="x" * 16)
    assert mfa.is_required_for(root)


def test_a_viewer_logs_in_with_the_password_alone_under_the_admins_policy(client, viewer, mfa_policy):
    mfa_policy("admins")
    response = password_step(client, "vera")
    assert response.url == "/"
    assert is_logged_in(client)


def test_the_all_policy_sends_everyone_to_enrolment(client, viewer, mfa_policy):
    mfa_policy("all")
    assert password_step(client, "vera").url == "/accounts/login/enrol/"
    assert not is_logged_in(client)


def test_the_none_policy_lets_an_admin_in_with_the_password(client, admin_user, mfa_policy):
    mfa_policy("none")
    assert password_step(client, "ada").url == "/"
    assert is_logged_in(client)


def test_an_enrolled_user_cannot_jump_from_the_code_step_to_enrolment(client, admin_user, mfa_policy, clock):
    mfa_policy("admins")
    enrol(admin_user, START)
    clock.advance(minutes=1)
    password_step(client, "ada")
    response = client.get("/accounts/login/enrol/")
    assert response.url == "/accounts/login/"
    assert TotpDevice.objects.filter(user=admin_user).count() == 1


def test_a_required_user_who_turns_it_off_must_set_up_a_new_one_at_once(
    client, admin_user, mfa_policy, clock
):
    mfa_policy("admins")
    enrol(admin_user, START)
    client.force_login(admin_user)
    response = client.post("/accounts/security/mfa/disable/", {"disable-password": TEST_PASSWORD})
    assert response.url == "/accounts/security/mfa/enrol/"


def test_a_bad_policy_value_stops_start_up(tmp_path):
    env = {**production_env(tmp_path), "RAMPART_MFA_REQUIRED": "sometimes"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "RAMPART_MFA_REQUIRED must be none, admins or all" in result.stderr
