"""Delivering one alert: claimed with a conditional update (so a retried task or two workers never send it
twice), sent through its channel's transport, and its outcome recorded on the alert and the channel."""

from __future__ import annotations

import time

from django.db.models import F
from django.utils import timezone

from monitoring.messages import alert_message
from monitoring.models import Alert, AlertChannel, IncidentEvent, JourneyIncident, JourneyIncidentEvent
from monitoring.transports import TransportError, transport_for

MAX_ATTEMPTS = 3
DISABLE_AFTER = 5  # failures in a row before a channel is switched off


def alert_send(*, alert_id: int) -> str:
    """Claim, then send. Returns what happened; raises nothing for a channel's failure (it is recorded)."""
    claimed = Alert.objects.filter(id=alert_id, state=Alert.State.PENDING).update(
        state=Alert.State.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return "not pending"
    alert = Alert.objects.select_related(
        "channel__client", "channel__workspace", "client", "incident__monitor__route__domain"
    ).get(id=alert_id)
    channel = alert.channel
    transport = transport_for(channel)
    started = time.monotonic()
    try:
        if alert.kind == Alert.Kind.TEST:
            transport.send_test()
        else:
            transport.send(alert_message(alert))
    except TransportError as exc:
        return _failed(alert, str(exc)[:300], exc.permanent, started)
    duration = (time.monotonic() - started) * 1000
    Alert.objects.filter(id=alert.id).update(state=Alert.State.SENT, sent_at=timezone.now(), error="")
    AlertChannel.objects.filter(id=channel.id).update(
        last_sent_at=timezone.now(), last_duration_ms=duration, last_error="", consecutive_failures=0
    )
    if alert.incident_id:
        IncidentEvent.objects.create(
            incident_id=alert.incident_id,
            kind=IncidentEvent.Kind.ALERT_SENT,
            detail=f"{alert.get_kind_display()} alert sent to {channel}",
        )
    journey_incident = alert.payload.get("incident") if alert.kind == Alert.Kind.JOURNEY else None
    if journey_incident and JourneyIncident.objects.filter(id=journey_incident).exists():
        state = "Recovery" if alert.payload.get("state") == "up" else "Down"
        JourneyIncidentEvent.objects.create(
            incident_id=journey_incident, kind=IncidentEvent.Kind.ALERT_SENT, detail=f"{state} alert sent to {channel}"
        )
    return "sent"


def _failed(alert: Alert, error: str, permanent: bool, started: float) -> str:
    channel = alert.channel
    retry = not permanent and alert.attempts < MAX_ATTEMPTS
    Alert.objects.filter(id=alert.id).update(state=Alert.State.PENDING if retry else Alert.State.FAILED, error=error)
    failures = channel.consecutive_failures + 1
    disable = permanent or failures >= DISABLE_AFTER
    AlertChannel.objects.filter(id=channel.id).update(
        last_error=error,
        consecutive_failures=failures,
        last_duration_ms=(time.monotonic() - started) * 1000,
        **({"enabled": False, "disabled_reason": error} if disable else {}),
    )
    return "retry" if retry else "failed"
