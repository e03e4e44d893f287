"""Hold rules: when a monitor's alerts are held instead of sent (an open maintenance window, flapping)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.db import models

from monitoring.models import Incident, MaintenanceWindow, Monitor

FLAPPING_INCIDENTS = 3  # outages of one monitor within the hour before its alerts are held as flapping


def held_by(monitor: Monitor, now: datetime) -> str:
    """Why alerts for this monitor are held right now ("" when they are not)."""
    tz = zoneinfo.ZoneInfo(monitor.client.timezone)
    windows = MaintenanceWindow.objects.filter(client_id=monitor.client_id).filter(
        models.Q(monitor__isnull=True) | models.Q(monitor=monitor)
    )
    for window in windows:
        if window.covers(now, tz):
            return f"maintenance window: {window}"
    recent = Incident.objects.filter(monitor=monitor, started_at__gte=now - timedelta(hours=1)).count()
    if recent >= FLAPPING_INCIDENTS:
        return f"flapping: {recent} outages in the last hour"
    return ""
