import io

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from posture.models import NotificationEndpoint

pytestmark = pytest.mark.django_db


def test_rotate_keys_re_encrypts_webhook_urls_and_signing_secrets(team):
    endpoint = NotificationEndpoint(team=team, name="siem")
    endpoint.set_url("https://hooks.example.com/T0/B0/secret-path")
    endpoint.set_secret("whsec-0123456789abcdef")
    endpoint.save()
    new_key = Fernet.generate_key().decode()
    with override_settings(RAMPART_ENCRYPTION_KEYS=[new_key, *settings.RAMPART_ENCRYPTION_KEYS]):
        call_command("rotate_keys", stdout=io.StringIO())
    with override_settings(RAMPART_ENCRYPTION_KEYS=[new_key]):
        endpoint.refresh_from_db()
        assert endpoint.get_url() == "https://hooks.example.com/T0/B0/secret-path"
        assert endpoint.get_secret() == "whsec-0123456789abcdef"
