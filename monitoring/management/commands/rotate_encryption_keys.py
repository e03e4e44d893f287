"""Re-encrypt every stored channel secret and journey secret with the newest key of LAUNCHREADY_ENCRYPTION_KEYS.

Rotate by putting a new key first in the list, running this command, then removing the old key.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from launchready.crypto import DecryptionError, rotate
from monitoring.models import AlertChannel, JourneySecret


class Command(BaseCommand):
    help = "Re-encrypt stored secrets with the newest encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        done = failed = 0
        with transaction.atomic():
            for channel in AlertChannel.objects.exclude(secret="").select_for_update():  # a filter  # nosec B106
                try:
                    channel.secret = rotate(channel.secret)
                except DecryptionError:
                    failed += 1
                    self.stderr.write(f"channel {channel.code}: cannot be decrypted with the configured keys")
                    continue
                channel.save(update_fields=["secret"])
                done += 1
            for secret in JourneySecret.objects.select_for_update():
                try:
                    secret.ciphertext = rotate(secret.ciphertext)
                except DecryptionError:
                    failed += 1
                    self.stderr.write(
                        f"journey secret {secret.name} of journey {secret.journey_id}: cannot be decrypted"
                    )
                    continue
                secret.save(update_fields=["ciphertext"])
                done += 1
        self.stdout.write(f"Re-encrypted {done} secret(s) with the newest key; {failed} could not be read.")
