"""Django system checks for Rampart's own configuration."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, register


@register()
def encryption_keys_check(app_configs, **kwargs):
    keys = settings.RAMPART_ENCRYPTION_KEYS
    if not keys:
        return [
            Error(
                "RAMPART_ENCRYPTION_KEYS is not set.",
                hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
                id="rampart.E001",
            )
        ]
    for index, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            return [
                Error(f"RAMPART_ENCRYPTION_KEYS: key {index} is not a valid Fernet key.", id="rampart.E002")
            ]
    return []
