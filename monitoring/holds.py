"""Hold rules: when a monitor's alerts are held instead of sent (an open maintenance window, flapping), and
when a client's heartbeat alerts wait (a maintenance window of the whole client)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.db import models

from launchready.models import Client
from monitoring.models import Incident, MaintenanceWindow, Monitor

FLAPPING_INCIDENTS = 3  # outages of one monitor within the hour before its alerts are held as flapping


def _maintenance(windows: models.QuerySet[MaintenanceWindow], tz_name: str, now: datetime) -> str:
    tz = zoneinfo.ZoneInfo(tz_name)
    for window in windows:
        if window.covers(now, tz):
            return f"maintenance window: {window}"
    return ""


def held_by(monitor: Monitor, now: datetime) -> str:
    """Why alerts for this monitor are held right now ("" when they are not)."""
    windows = MaintenanceWindow.objects.filter(client_id=monitor.client_id).filter(
        models.Q(monitor__isnull=True) | models.Q(monitor=monitor)
    )
    if held := _maintenance(windows, monitor.client.timezone, now):
        return held
    recent = Incident.objects.filter(monitor=monitor, started_at__gte=now - timedelta(hours=1)).count()
    if recent >= FLAPPING_INCIDENTS:
        return f"flapping: {recent} outages in the last hour"
    return ""


def client_held_by(client: Client, now: datetime) -> str:
    """Why alerts about the client as a whole (its heartbeats) are held: a maintenance window of every monitor
    of the client is open ("" when none is)."""
    windows = MaintenanceWindow.objects.filter(client_id=client.id, monitor__isnull=True)
    return _maintenance(windows, client.timezone, now)
