"""Channel secrets at rest: a key can be rotated in, secrets re-encrypted, the old key removed."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.test import override_settings

from launchready.crypto import DecryptionError, decrypt
from monitoring.models import AlertChannel
from tests.conftest import Tenant

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.mark.django_db
def test_a_key_is_rotated_in_and_the_old_one_retired(tenant: Tenant) -> None:
    with override_settings(LAUNCHREADY_ENCRYPTION_KEYS=[OLD]):
        channel = AlertChannel(client=tenant.client, kind="slack", name="#launch")
        channel.config = {"url": "https://hooks.slack.com/services/T/B/secret"}
        channel.save()
    with override_settings(LAUNCHREADY_ENCRYPTION_KEYS=[NEW, OLD]):
        call_command("rotate_encryption_keys")
    with override_settings(LAUNCHREADY_ENCRYPTION_KEYS=[NEW]):
        channel.refresh_from_db()
        assert channel.config["url"].endswith("/secret")
    with override_settings(LAUNCHREADY_ENCRYPTION_KEYS=[OLD]), pytest.raises(DecryptionError):
        decrypt(AlertChannel.objects.get(pk=channel.pk).secret)
