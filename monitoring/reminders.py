"""Reminders: an outage still open is told again every REMINDER_EVERY, once whatever the schedulers."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from monitoring.alerts import alerts_for_event
from monitoring.models import Alert, Incident, IncidentEvent

REMINDER_EVERY = timedelta(hours=1)


def send_reminders(now: datetime | None = None) -> int:
    """One reminder per open incident per REMINDER_EVERY, claimed with a conditional update."""
    now = now or timezone.now()
    sent = 0
    due = (
        Incident.objects.filter(ended_at__isnull=True)
        .filter(
            models.Q(last_reminder_at__lt=now - REMINDER_EVERY)
            | models.Q(last_reminder_at__isnull=True, started_at__lt=now - REMINDER_EVERY)
        )
        .select_related("monitor__client")
    )
    for incident in due:
        claimed = Incident.objects.filter(pk=incident.pk, last_reminder_at=incident.last_reminder_at).update(
            last_reminder_at=now
        )
        if claimed:
            sequence = (
                Alert.objects.filter(incident=incident, kind=Alert.Kind.REMINDER).values("sequence").distinct().count()
                + 1
            )
            IncidentEvent.objects.create(
                incident=incident, at=now, kind=IncidentEvent.Kind.REMINDER, detail=f"reminder {sequence}: still down"
            )
            alerts_for_event(incident, Alert.Kind.REMINDER, sequence, at=now)
            sent += 1
    return sent
