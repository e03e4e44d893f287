"""A client's status row goes with the client (it has no database constraint: see ClientStatus)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from launchready.models import Client, ClientStatus


@receiver(post_delete, sender=Client, dispatch_uid="launchready.client_status.client_deleted")
def client_deleted(sender: type[Client], instance: Client, **kwargs: Any) -> None:
    # A refresh during the cascade (a domain or monitor deleted with the client) may have written it again.
    ClientStatus.objects.filter(client_id=instance.pk).delete()
