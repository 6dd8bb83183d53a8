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


def test_an_uploaded_snapshot_is_stored_without_its_credentials_yet_scans_report_them(cluster):
    import gzip

    from findings.models import Finding
    from posture import services
    from tests.factories import as_yaml, deployment

    app = deployment("web", hardened=True)
    app["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "DB_PASSWORD", "value": "pl41n-t3xt-pw!"}
    ]
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "namespace": "shop"},
        "data": {"app.properties": "user=shop\npassword=also-s3cret-99\n", "aws": "AKIAIOSFODNN7EXAMPLE"},
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "shop"},
        "data": {"token": "c2VjcmV0LXRva2VuLXZhbHVl"},
    }
    snapshot = services.store_snapshot(cluster, as_yaml(app, config, secret))
    stored = gzip.decompress(bytes(snapshot.content)).decode()
    for leaked in ("pl41n-t3xt-pw!", "also-s3cret-99", "AKIAIOSFODNN7EXAMPLE", "c2VjcmV0LXRva2VuLXZhbHVl"):
        assert leaked not in stored
    cluster.check_settings = {}  # the whole catalogue, secrets checks included
    cluster.save()
    scan = services.run_scan(services.start_scan(cluster, snapshot=snapshot, enqueue=False).pk)
    assert scan.status == "succeeded"
    found = {
        f.check_id: f for f in Finding.objects.filter(cluster=cluster, check_id__startswith="secret-in-")
    }
    assert set(found) == {"secret-in-env", "secret-in-configmap"}
    assert "<redacted, 14 chars>" in str(found["secret-in-env"].evidence)
    assert "AWS access key" in found["secret-in-configmap"].message
