import pytest
from cryptography.fernet import Fernet
from django.db import connection

from posture import crypto
from posture.models import Cluster

pytestmark = pytest.mark.django_db

TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.very-secret-service-account-token"


def test_credentials_are_encrypted_in_the_database(cluster):
    cluster.set_credentials(TOKEN)
    cluster.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_encrypted FROM posture_cluster WHERE id = %s", [cluster.pk])
        stored = cursor.fetchone()[0]
    assert TOKEN not in stored
    assert "very-secret" not in stored
    assert Cluster.objects.get(pk=cluster.pk).get_credentials() == TOKEN


def test_old_keys_still_decrypt_and_rotation_moves_to_the_newest(cluster, settings):
    cluster.set_credentials(TOKEN)
    cluster.save()
    old_ciphertext = cluster.credentials_encrypted
    new_key = Fernet.generate_key().decode()
    settings.RAMPART_ENCRYPTION_KEYS = [new_key, *settings.RAMPART_ENCRYPTION_KEYS]
    assert Cluster.objects.get(pk=cluster.pk).get_credentials() == TOKEN
    rotated = crypto.rotate(old_ciphertext)
    settings.RAMPART_ENCRYPTION_KEYS = [new_key]
    assert crypto.decrypt(rotated) == TOKEN


def test_credentials_encrypted_with_an_unknown_key_fail_clearly(cluster, settings):
    cluster.set_credentials(TOKEN)
    cluster.save()
    settings.RAMPART_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.CredentialsUnreadable):
        Cluster.objects.get(pk=cluster.pk).get_credentials()
