from io import StringIO

import pyotp
import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from accounts import mfa
from accounts.models import AuditEvent, TotpDevice
from posture.models import Cluster
from tests.accounts.conftest import START, enrol

pytestmark = pytest.mark.django_db

TOKEN = "eyJhbGciOiJSUzI1NiJ9.service-account-token"


def rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_keys", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def secrets_under_the_old_key(cluster, viewer, clock):
    cluster.set_credentials(TOKEN)
    cluster.save()
    enrol(viewer, START)
    return mfa.secret_of(TotpDevice.objects.get(user=viewer))


def test_it_re_encrypts_everything_so_the_old_key_can_be_removed(
    secrets_under_the_old_key, cluster, viewer, settings
):
    old_key = settings.RAMPART_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.RAMPART_ENCRYPTION_KEYS = [new_key, old_key]
    before = Cluster.objects.get(pk=cluster.pk).credentials_encrypted

    output = rotate()

    assert "cluster credentials: re-encrypted 1, already under the newest key 0" in output
    assert "TOTP secrets: re-encrypted 1, already under the newest key 0" in output
    assert Cluster.objects.get(pk=cluster.pk).credentials_encrypted != before
    settings.RAMPART_ENCRYPTION_KEYS = [new_key]
    assert Cluster.objects.get(pk=cluster.pk).get_credentials() == TOKEN
    device = TotpDevice.objects.get(user=viewer)
    assert mfa.secret_of(device) == secrets_under_the_old_key
    # The authenticator still works after the old key is gone.
    later = START.replace(minute=30)
    assert mfa.verify_totp(viewer, pyotp.TOTP(secrets_under_the_old_key).at(later), now=later)


def test_running_it_twice_changes_nothing_the_second_time(secrets_under_the_old_key, cluster, settings):
    settings.RAMPART_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.RAMPART_ENCRYPTION_KEYS]
    rotate()
    after_first = Cluster.objects.get(pk=cluster.pk).credentials_encrypted
    output = rotate()
    assert "cluster credentials: re-encrypted 0, already under the newest key 1" in output
    assert Cluster.objects.get(pk=cluster.pk).credentials_encrypted == after_first


def test_a_value_no_key_can_read_stops_it_and_nothing_changes(
    secrets_under_the_old_key, cluster, viewer, settings
):
    old_key = settings.RAMPART_ENCRYPTION_KEYS[0]
    # The TOTP secret is under a key that is no longer configured.
    foreign = Fernet(Fernet.generate_key())
    TotpDevice.objects.filter(user=viewer).update(
        secret_encrypted=foreign.encrypt(b"JBSWY3DPEHPK3PXP").decode()
    )
    settings.RAMPART_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    before = Cluster.objects.get(pk=cluster.pk).credentials_encrypted
    with pytest.raises(CommandError, match="cannot be decrypted"):
        rotate()
    assert Cluster.objects.get(pk=cluster.pk).credentials_encrypted == before


def test_a_dry_run_counts_without_changing(secrets_under_the_old_key, cluster, settings):
    settings.RAMPART_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.RAMPART_ENCRYPTION_KEYS]
    before = Cluster.objects.get(pk=cluster.pk).credentials_encrypted
    output = rotate("--dry-run")
    assert "cluster credentials: would re-encrypt 1" in output
    assert Cluster.objects.get(pk=cluster.pk).credentials_encrypted == before


def test_the_rotation_is_audited_with_counts_only(secrets_under_the_old_key, settings):
    settings.RAMPART_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.RAMPART_ENCRYPTION_KEYS]
    rotate()
    event = AuditEvent.objects.get(action="keys.rotated")
    assert event.actor is None
    assert event.details["counts"]["accounts.totpdevice"] == {"re-encrypted": 1, "already current": 0}
    assert settings.RAMPART_ENCRYPTION_KEYS[0] not in str(event.details)


def test_every_encrypted_column_is_rotated():
    # A new *_encrypted field that rotate_keys does not know would become
    # unreadable once the old key is removed.
    from django.apps import apps

    from posture.management.commands.rotate_keys import ENCRYPTED_FIELDS

    encrypted = {
        (model._meta.label, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.name.endswith("_encrypted")
    }
    assert encrypted == {(label, field) for label, field, _ in ENCRYPTED_FIELDS}
