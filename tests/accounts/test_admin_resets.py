import pytest

from accounts import mfa
from accounts.models import AuditEvent, LoginThrottle, TotpDevice
from tests.accounts.conftest import START, enrol, is_logged_in, password_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", password="x" * 16)


def test_an_administrator_unlocks_a_locked_username_and_it_is_audited(client, viewer, superuser, clock):
    for _ in range(5):
        password_step(client, "vera", "wrong")
    lock = LoginThrottle.objects.get(key="user:vera")
    admin_client = type(client)()
    admin_client.force_login(superuser)
    admin_client.post(f"/admin/accounts/loginthrottle/{lock.pk}/delete/", {"post": "yes"})
    password_step(client, "vera")
    assert is_logged_in(client)
    event = AuditEvent.objects.get(action="login.unlocked")
    assert event.actor == superuser
    assert event.details == {"subject": "user:vera"}


def test_an_administrator_removes_a_lost_authenticator(client, viewer, superuser, clock):
    enrol(viewer, START)
    device = TotpDevice.objects.get(user=viewer)
    client.force_login(superuser)
    client.post(f"/admin/accounts/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert not mfa.is_enrolled(viewer)
    assert AuditEvent.objects.get(action="mfa.disabled").actor == superuser


def test_the_audit_log_cannot_be_edited_or_deleted_in_the_admin(client, superuser):
    event = AuditEvent.objects.create(action="login.failed")
    client.force_login(superuser)
    assert client.post(f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert client.get("/admin/accounts/auditevent/").status_code == 200


def test_the_admin_never_shows_the_totp_secret(client, viewer, superuser, clock):
    enrol(viewer, START)
    device = TotpDevice.objects.get(user=viewer)
    client.force_login(superuser)
    html = client.get(f"/admin/accounts/totpdevice/{device.pk}/change/").content.decode()
    assert device.secret_encrypted not in html
    assert mfa.secret_of(device) not in html
