import pytest

from accounts import mfa
from tests.accounts.conftest import START, enrol, is_logged_in, password_step
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def codes(viewer, clock):
    codes = enrol(viewer, START)
    clock.advance(seconds=60)
    return codes


def test_a_recovery_code_logs_in_once(client, viewer, codes):
    password_step(client, "vera")
    response = client.post("/accounts/login/verify/", {"recovery_code": codes[3]})
    assert response.status_code == 302
    assert is_logged_in(client)
    assert mfa.unused_recovery_codes(viewer) == 9

    client.post("/accounts/logout/")
    password_step(client, "vera")
    response = client.post("/accounts/login/verify/", {"recovery_code": codes[3]})
    assert response.status_code == 200
    assert not is_logged_in(client)
    assert "That recovery code did not work: each one works once." in response.content.decode()


def test_a_recovery_code_may_be_typed_without_dashes_and_in_capitals(client, codes):
    password_step(client, "vera")
    client.post("/accounts/login/verify/", {"recovery_code": codes[0].replace("-", " ").upper()})
    assert is_logged_in(client)


def test_the_recovery_form_is_plain_text_not_numeric(client, codes):
    password_step(client, "vera")
    html = client.get("/accounts/login/verify/").content.decode()
    recovery_input = html[html.index('name="recovery_code"') - 200 : html.index('name="recovery_code"') + 200]
    assert "inputmode" not in recovery_input
    assert '<label for="id_recovery_code">' in html


def test_new_recovery_codes_replace_the_old_ones_after_the_password(client, viewer, codes):
    client.force_login(viewer)
    response = client.post("/accounts/security/mfa/recovery-codes/", {"regenerate-password": "wrong"})
    assert response.status_code == 302
    assert mfa.use_recovery_code(viewer, codes[0]) is True  # unchanged

    response = client.post("/accounts/security/mfa/recovery-codes/", {"regenerate-password": TEST_PASSWORD})
    new_codes = response.context["codes"]
    assert len(new_codes) == 10
    assert mfa.use_recovery_code(viewer, codes[1]) is False
    assert mfa.use_recovery_code(viewer, new_codes[1]) is True
