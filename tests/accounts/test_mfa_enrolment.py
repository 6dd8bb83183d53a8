import pyotp
import pytest
from django.db import connection

from accounts import mfa
from accounts.models import RecoveryCode, TotpDevice
from tests.accounts.conftest import START
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_the_enrolment_page_shows_the_setup_key_link_and_a_qr_code_without_scripts(client, viewer, clock):
    client.force_login(viewer)
    response = client.get("/accounts/security/mfa/enrol/")
    assert response.status_code == 200
    device = TotpDevice.objects.get(user=viewer)
    secret = mfa.secret_of(device)
    html = response.content.decode()
    assert secret[:4] in html
    assert "otpauth://totp/Rampart:vera?secret=" + secret in html.replace("&amp;", "&")
    assert 'src="data:image/svg+xml' in html
    assert "<script>" not in html
    assert 'autocomplete="one-time-code"' in html
    assert 'inputmode="numeric"' in html
    assert response.headers["Cache-Control"].startswith("max-age=0")


def test_reloading_the_page_keeps_the_same_secret_until_it_is_confirmed(client, viewer):
    client.force_login(viewer)
    client.get("/accounts/security/mfa/enrol/")
    first = TotpDevice.objects.get(user=viewer).secret_encrypted
    client.get("/accounts/security/mfa/enrol/")
    assert TotpDevice.objects.get(user=viewer).secret_encrypted == first


def test_confirming_with_a_first_code_turns_it_on_and_shows_ten_recovery_codes_once(client, viewer, clock):
    client.force_login(viewer)
    client.get("/accounts/security/mfa/enrol/")
    code = pyotp.TOTP(mfa.secret_of(TotpDevice.objects.get(user=viewer))).at(START)
    response = client.post("/accounts/security/mfa/enrol/", {"code": code})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert codes[0] in response.content.decode()
    assert mfa.is_enrolled(viewer)
    # Stored hashed: no plaintext code in the table.
    stored = set(RecoveryCode.objects.filter(user=viewer).values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert not {c.replace("-", "") for c in codes} & stored
    # And never again: the security page shows only how many are left.
    page = client.get("/accounts/security/").content.decode()
    assert codes[0] not in page
    assert "10 unused recovery codes left" in page


def test_a_wrong_first_code_leaves_it_off(client, viewer, clock):
    client.force_login(viewer)
    client.get("/accounts/security/mfa/enrol/")
    response = client.post("/accounts/security/mfa/enrol/", {"code": "000000"})
    assert response.status_code == 200
    assert "did not work" in response.content.decode()
    assert not mfa.is_enrolled(viewer)


def test_the_secret_is_encrypted_at_rest(viewer):
    device = mfa.begin_enrolment(viewer)
    secret = mfa.secret_of(device)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_encrypted FROM accounts_totpdevice WHERE id = %s", [device.pk])
        stored = cursor.fetchone()[0]
    assert secret not in stored
    assert stored.startswith("gAAAA")  # a Fernet token


def test_enrolling_twice_is_refused_until_it_is_turned_off(viewer, clock):
    device = mfa.begin_enrolment(viewer)
    mfa.confirm_enrolment(viewer, pyotp.TOTP(mfa.secret_of(device)).at(START), now=START)
    with pytest.raises(mfa.AlreadyEnrolled):
        mfa.begin_enrolment(viewer)


def test_turning_it_off_needs_the_password(client, viewer, clock):
    device = mfa.begin_enrolment(viewer)
    mfa.confirm_enrolment(viewer, pyotp.TOTP(mfa.secret_of(device)).at(START), now=START)
    client.force_login(viewer)
    client.post("/accounts/security/mfa/disable/", {"disable-password": "not my password"})
    assert mfa.is_enrolled(viewer)
    response = client.post("/accounts/security/mfa/disable/", {"disable-password": TEST_PASSWORD})
    assert response.status_code == 302
    assert not mfa.is_enrolled(viewer)
    assert not RecoveryCode.objects.filter(user=viewer).exists()
