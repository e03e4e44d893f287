"""A client's status row goes with the client (it has no database constraint: see ClientStatus), and its sprint
deadline follows the client's sprints, whoever saves or deletes them."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from launchready import status
from launchready.models import Client, ClientStatus, Sprint


@receiver(post_delete, sender=Client, dispatch_uid="launchready.client_status.client_deleted")
def client_deleted(sender: type[Client], instance: Client, **kwargs: Any) -> None:
    # A refresh during the cascade (a domain or monitor deleted with the client) may have written it again.
    ClientStatus.objects.filter(client_id=instance.pk).delete()


@receiver(post_save, sender=Sprint, dispatch_uid="launchready.client_status.sprint_saved")
@receiver(post_delete, sender=Sprint, dispatch_uid="launchready.client_status.sprint_deleted")
def sprint_changed(sender: type[Sprint], instance: Sprint, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        status.refresh_sprints([instance.client_id])
