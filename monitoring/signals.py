"""Keeps the monitoring's part of each client's status row (monitoring/client_status.py) in step with the
monitors and incidents it is computed from, whoever saves or deletes them."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from monitoring import client_status
from monitoring.models import Incident, Monitor


@receiver(post_save, sender=Monitor, dispatch_uid="monitoring.client_status.monitor_saved")
@receiver(post_delete, sender=Monitor, dispatch_uid="monitoring.client_status.monitor_deleted")
def monitor_changed(sender: type[Monitor], instance: Monitor, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        client_status.refresh([instance.client_id])


@receiver(post_save, sender=Incident, dispatch_uid="monitoring.client_status.incident_saved")
def incident_saved(sender: type[Incident], instance: Incident, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        client_status.refresh(Monitor.objects.filter(id=instance.monitor_id).values_list("client_id", flat=True))
