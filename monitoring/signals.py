"""Keeps the monitoring's part of each client's status row (monitoring/client_status.py) in step with the
monitors, incidents, heartbeats and journeys it is computed from, whoever saves or deletes them; and has the
heartbeats' sweep read a client's cron heartbeats again when the client is saved (its time zone may have
changed). Sends `journey_run_recorded` when a journey run is kept, for the apps that read journeys' outcomes."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from launchready.models import Client
from monitoring import client_status
from monitoring.models import Heartbeat, Incident, Journey, Monitor

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


@receiver(post_save, sender=Heartbeat, dispatch_uid="monitoring.client_status.heartbeat_saved")
@receiver(post_delete, sender=Heartbeat, dispatch_uid="monitoring.client_status.heartbeat_deleted")
def heartbeat_changed(sender: type[Heartbeat], instance: Heartbeat, raw: bool = False, **kwargs: Any) -> None:
    """Added, edited (its schedule: late or no longer) or removed. The pings, the sweep and pause write with
    UPDATE and refresh the row themselves."""
    if not raw:
        client_status.refresh_jobs([instance.client_id])


# A journey's fields the status row reads; a run's save that moves none of them (the next due time, the counts
# of runs in a row) refreshes nothing.
JOURNEY_STATUS_FIELDS = frozenset({"client", "enabled", "state", "name"})


@receiver(post_save, sender=Journey, dispatch_uid="monitoring.client_status.journey_saved")
@receiver(post_delete, sender=Journey, dispatch_uid="monitoring.client_status.journey_deleted")
def journey_changed(sender: type[Journey], instance: Journey, raw: bool = False, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if raw or (update_fields is not None and not JOURNEY_STATUS_FIELDS & set(update_fields)):
        return
    client_status.refresh_journeys([instance.client_id])


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
