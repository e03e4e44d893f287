"""Alerts: one row per channel and event, claimed with a conditional update before it is sent (so a
retried task or two workers never send it twice), and the transports that deliver it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import STAFF_ROLES, Membership, Role
from launchready.net import Net, current_config
from launchready.plaintext import render_text
from monitoring.models import Alert, AlertChannel, Incident, IncidentEvent

MAX_ATTEMPTS = 3
DISABLE_AFTER = 5  # failures in a row before a channel is switched off


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


FLAPPING_INCIDENTS = 3  # outages of one monitor within the hour before its alerts are held as flapping


def alerts_for_event(incident: Incident, kind: str, sequence: int = 0) -> list[Alert]:
    """Queue one alert per enabled channel of the incident's client, unless maintenance or flapping holds it."""
    monitor = incident.monitor
    held = held_by(monitor, timezone.now())
    if held:
        IncidentEvent.objects.create(incident=incident, kind=IncidentEvent.Kind.HELD, detail=held)
        if held.startswith("flapping"):
            hour = timezone.now().strftime("%Y%m%d%H")
            return alerts_for(
                monitor.client_id,
                Alert.Kind.FLAPPING,
                f"flapping:{monitor.id}:{hour}",
                payload={
                    "subject": f"Flapping: {monitor.url}",
                    "detail": f"{monitor.url} went down and up {FLAPPING_INCIDENTS} or more times in the last hour; "
                    "further alerts for it are held until it settles.",
                },
            )
        return []
    key = f"incident:{incident.id}:{kind}:{sequence}"
    return alerts_for(monitor.client_id, kind, key, incident=incident, sequence=sequence)


def held_by(monitor: Any, now: Any) -> str:
    """Why alerts for this monitor are held right now ("" when they are not)."""
    import zoneinfo

    from monitoring.models import MaintenanceWindow

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


REMINDER_EVERY = timedelta(hours=1)


def send_reminders(now: Any = None) -> int:
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
            alerts_for_event(incident, Alert.Kind.REMINDER, sequence)
            IncidentEvent.objects.create(
                incident=incident, at=now, kind=IncidentEvent.Kind.REMINDER, detail=f"reminder {sequence}: still down"
            )
            sent += 1
    return sent


def alerts_for(
    client_id: int,
    kind: str,
    key: str,
    *,
    incident: Incident | None = None,
    sequence: int = 0,
    payload: dict[str, Any] | None = None,
) -> list[Alert]:
    """Queue one alert per enabled channel; an event already queued for a channel is not queued again."""
    channels = AlertChannel.objects.filter(client_id=client_id, enabled=True)
    before = set(Alert.objects.filter(channel__in=channels, dedupe_key=key).values_list("id", flat=True))
    Alert.objects.bulk_create(
        [
            Alert(channel=c, incident=incident, kind=kind, sequence=sequence, dedupe_key=key, payload=payload or {})
            for c in channels
        ],
        ignore_conflicts=True,
    )
    # Only what this call created is new: an event already queued was enqueued by whoever queued it.
    alerts = list(Alert.objects.filter(channel__in=channels, dedupe_key=key).exclude(id__in=before))
    from monitoring.tasks import send_alert_task

    ids = [a.id for a in alerts]
    transaction.on_commit(lambda: [send_alert_task.delay(i) for i in ids])
    return alerts


def test_alert(channel: AlertChannel) -> Alert:
    """The "send test alert" button: a one-off alert with no incident."""
    alert = Alert.objects.create(channel=channel, kind=Alert.Kind.TEST, dedupe_key=f"test:{time.time_ns()}")
    from monitoring.tasks import send_alert_task

    transaction.on_commit(lambda: send_alert_task.delay(alert.id))
    return alert


def send(alert_id: int) -> str:
    """Claim, then send. Returns what happened; raises nothing for a channel's failure (it is recorded)."""
    claimed = Alert.objects.filter(id=alert_id, state=Alert.State.PENDING).update(
        state=Alert.State.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return "not pending"
    alert = Alert.objects.select_related("channel__client", "incident__monitor__route__domain").get(id=alert_id)
    channel = alert.channel
    started = time.monotonic()
    try:
        TRANSPORTS[channel.kind](alert, message(alert))
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


def message(alert: Alert) -> dict[str, Any]:
    """The facts every transport words in its own way."""
    incident = alert.incident
    monitor = incident.monitor if incident else None
    subject = alert.payload.get("subject") or {
        Alert.Kind.DOWN: f"DOWN: {monitor.url if monitor else ''}",
        Alert.Kind.UP: f"Recovered: {monitor.url if monitor else ''}",
        Alert.Kind.REMINDER: f"Still down: {monitor.url if monitor else ''}",
        Alert.Kind.TEST: f"Test alert for {alert.channel.client.name}",
    }.get(Alert.Kind(alert.kind), alert.get_kind_display())
    return {
        "event": alert.kind,
        "subject": subject,
        "client": alert.channel.client.name,
        "url": monitor.url if monitor else None,
        "cause": incident.get_cause_display() if incident else None,
        "detail": alert.payload.get("detail")
        or (incident.detail if incident else "This is a test: alerts for this channel work."),
        "started_at": incident.started_at.isoformat() if incident else None,
        "ended_at": incident.ended_at.isoformat() if incident and incident.ended_at else None,
        "incident": str(incident.code) if incident else None,
        "link": f"{settings.SITE_URL}/clients/{alert.channel.client.code}/monitoring/",
    }


def _email(alert: Alert, facts: dict[str, Any]) -> None:
    channel = alert.channel
    to = channel.recipients or _people(channel)
    if not to:
        raise TransportError("nobody to email: add recipients or a founder", permanent=True)
    text = render_text("monitoring/email/alert-body-text.txt", facts)
    html = render_to_string("monitoring/email/alert-body-html.html", facts)
    mail = EmailMultiAlternatives(f"[Launch Ready] {facts['subject']}", text, to=to)
    mail.attach_alternative(html, "text/html")
    try:
        mail.send()
    except OSError as exc:
        raise TransportError(f"the mail server did not take it: {type(exc).__name__}") from None


def _people(channel: AlertChannel) -> list[str]:
    client = channel.client
    members = Membership.objects.filter(workspace_id=client.workspace_id).select_related("user")
    return sorted(
        {
            m.user.email
            for m in members
            if m.role in STAFF_ROLES or (m.role == Role.FOUNDER and m.client_id == client.id)
        }
    )


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    async def go() -> Any:
        # A channel that hangs must not hold the worker: ten seconds, then it counts as a failure.
        async with Net(replace(current_config(), request_deadline=10.0)) as net:
            return await net.fetch(
                url,
                method="POST",
                content=body,
                follow_redirects=False,
                headers={"Content-Type": "application/json", **headers},
                max_bytes=65536,
            )

    result = asyncio.run(go())
    status = result.final.status
    if result.error is not None:
        raise TransportError(f"{result.error}: {result.final.detail}", permanent=result.error == "refused")
    if status is None or not 200 <= status < 300:
        raise TransportError(f"the endpoint answered {status}", permanent=status in (401, 403, 404, 410))


def _slack(alert: Alert, facts: dict[str, Any]) -> None:
    text = f"*{facts['subject']}*\n{facts['client']}: {facts['detail']}\n<{facts['link']}|Open monitoring>"
    _post(alert.channel.config["url"], json.dumps({"text": text}).encode(), {})


def _webhook(alert: Alert, facts: dict[str, Any]) -> None:
    config = alert.channel.config
    body = json.dumps(facts, sort_keys=True).encode()
    signature = hmac.new(config["signing_secret"].encode(), body, hashlib.sha256).hexdigest()
    _post(
        config["url"], body, {"X-LaunchReady-Event": facts["event"], "X-LaunchReady-Signature": f"sha256={signature}"}
    )


TRANSPORTS: dict[str, Callable[[Alert, dict[str, Any]], None]] = {
    AlertChannel.Kind.EMAIL: _email,
    AlertChannel.Kind.SLACK: _slack,
    AlertChannel.Kind.WEBHOOK: _webhook,
}


LOST_AFTER = timedelta(minutes=2)


def requeue_lost_alerts(now: Any = None) -> int:
    """Queue again the alerts still pending after a while: their task was lost (a broker restarted without
    keeping its queue). The claim in `send` keeps a late duplicate task from sending twice."""
    now = now or timezone.now()
    ids = list(
        Alert.objects.filter(state=Alert.State.PENDING, created__lt=now - LOST_AFTER).values_list("id", flat=True)
    )
    from monitoring.tasks import send_alert_task

    for alert_id in ids:
        send_alert_task.delay(alert_id)
    return len(ids)
