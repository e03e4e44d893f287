"""Keeps the monitoring's part of each client's status row (monitoring/client_status.py) in step with the
monitors and incidents it is computed from, whoever saves or deletes them; and has the heartbeats' sweep read
a client's cron heartbeats again when the client is saved (its time zone may have changed). Sends
`journey_run_recorded` when a journey run is kept, for the apps that read journeys' outcomes."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from launchready.models import Client
from monitoring import client_status
from monitoring.models import Heartbeat, Incident, Monitor

# Sent with `outcome` (a monitoring.journey_outcome.JourneyOutcome) once a journey run is kept: a scheduled
# run, "run now" or a deploy's smoke test.
journey_run_recorded = Signal()


@receiver(post_save, sender=Monitor, dispatch_uid="monitoring.client_status.monitor_saved")
@receiver(post_delete, sender=Monitor, dispatch_uid="monitoring.client_status.monitor_deleted")
def monitor_changed(sender: type[Monitor], instance: Monitor, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        client_status.refresh([instance.client_id])


@receiver(post_save, sender=Incident, dispatch_uid="monitoring.client_status.incident_saved")
def incident_saved(sender: type[Incident], instance: Incident, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        client_status.refresh(Monitor.objects.filter(id=instance.monitor_id).values_list("client_id", flat=True))


@receiver(post_save, sender=Client, dispatch_uid="monitoring.heartbeats.client_saved")
def client_saved(
    sender: type[Client], instance: Client, created: bool = False, raw: bool = False, **kwargs: Any
) -> None:
    """A cron expression is read on the client's clock: when it is late is worked out again on the next sweep.
    A client just made has no heartbeat, and a save of other fields leaves the clock as it was."""
    update_fields = kwargs.get("update_fields")
    if raw or created or (update_fields is not None and "timezone" not in update_fields):
        return
    # Due from its last ping on: at once for the next sweep (never pinged: still nothing expected of it).
    cron = Heartbeat.objects.filter(client_id=instance.id, schedule=Heartbeat.Schedule.CRON)
    cron.update(due_at=F("last_ping_at"))
