"""Re-encrypt every stored secret with the newest key in RAMPART_ENCRYPTION_KEYS.

Rotation: put a new key first in RAMPART_ENCRYPTION_KEYS (keep the old ones
after it), restart, run this command, then remove the old keys. It runs in one
transaction: if any value cannot be decrypted, nothing changes. Running it
again is harmless: values already under the newest key are left as they are.
"""

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import audit
from posture import crypto

# Every encrypted column, as (model label, field, what to call it in the
# output). A new encrypted field must be added here, or rotation leaves it
# behind and removing the old key makes it unreadable.
ENCRYPTED_FIELDS = [
    ("posture.Cluster", "credentials_encrypted", "cluster credentials"),
    ("accounts.TotpDevice", "secret_encrypted", "TOTP secrets"),
    ("posture.NotificationEndpoint", "url_encrypted", "notification endpoint URLs"),
    ("posture.NotificationEndpoint", "secret_encrypted", "notification signing secrets"),
]


class Command(BaseCommand):
    help = "Re-encrypt cluster credentials and TOTP secrets with the newest RAMPART_ENCRYPTION_KEYS key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be re-encrypted; change nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        keys = settings.RAMPART_ENCRYPTION_KEYS
        if not keys:
            raise CommandError("RAMPART_ENCRYPTION_KEYS is not set.")
        newest = Fernet(keys[0].encode())
        counts = {}
        with transaction.atomic():
            for label, field, description in ENCRYPTED_FIELDS:
                model = apps.get_model(label)
                rotated = current = 0
                rows = model.objects.select_for_update().exclude(**{field: ""})
                for pk, ciphertext in rows.values_list("pk", field).iterator(chunk_size=500):
                    if _is_under(newest, ciphertext):
                        current += 1
                        continue
                    try:
                        new_ciphertext = crypto.rotate(ciphertext)
                    except crypto.CredentialsUnreadable:
                        raise CommandError(
                            f"{description}: {label} {pk} cannot be decrypted with any configured key; "
                            "nothing was changed. Add the key it was encrypted with to "
                            "RAMPART_ENCRYPTION_KEYS."
                        ) from None
                    if not dry_run:
                        model.objects.filter(pk=pk).update(**{field: new_ciphertext})
                    rotated += 1
                counts[label.lower()] = {"re-encrypted": rotated, "already current": current}
                verb = "would re-encrypt" if dry_run else "re-encrypted"
                self.stdout.write(f"{description}: {verb} {rotated}, already under the newest key {current}")
            if not dry_run:
                audit.record("keys.rotated", keys_configured=len(keys), counts=counts)
        if dry_run:
            self.stdout.write("Dry run: nothing changed.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    "Done. Keys after the first may now be removed from RAMPART_ENCRYPTION_KEYS."
                )
            )


def _is_under(fernet: Fernet, ciphertext: str) -> bool:
    try:
        fernet.decrypt(ciphertext.encode())
    except InvalidToken:
        return False
    return True
