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
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import STAFF_ROLES, Membership, Role
from launchready.models import Client
from launchready.net import Net, current_config
from launchready.plaintext import render_email_html, render_text
from monitoring.models import Alert, AlertChannel, Incident, IncidentEvent

MAX_ATTEMPTS = 3
DISABLE_AFTER = 5  # failures in a row before a channel is switched off


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


FLAPPING_INCIDENTS = 3  # outages of one monitor within the hour before its alerts are held as flapping


NOBODY_TOLD = {
    Alert.Kind.DOWN: "add an alert channel for the client, or a default channel for the workspace",
    Alert.Kind.UP: "of the recovery",
    Alert.Kind.REMINDER: "of the reminder",
}


def routed_channels(client_id: int) -> list[AlertChannel]:
    """Where a client's alerts go: its own enabled channels, or, when it has none, its workspace's enabled
    default channels (one query either way)."""
    channels = list(
        AlertChannel.objects.filter(
            models.Q(client_id=client_id) | models.Q(client__isnull=True, workspace__clients__id=client_id),
            enabled=True,
        )
    )
    own = [c for c in channels if c.client_id is not None]
    return own or channels


def unreachable_clients(clients: list[Client]) -> set[int]:
    """Of these clients, those whose outages would reach nobody: no enabled channel of their own and no
    enabled default channel in their workspace (one query for any number of them)."""
    if not clients:
        return set()
    rows = (
        AlertChannel.objects.filter(
            models.Q(client__in=clients)
            | models.Q(client__isnull=True, workspace_id__in={c.workspace_id for c in clients}),
            enabled=True,
        )
        .values_list("client_id", "workspace_id")
        .distinct()
    )
    own: set[int] = set()
    defaults: set[int] = set()
    for client_id, workspace_id in rows:
        if client_id is not None:
            own.add(client_id)
        else:
            defaults.add(workspace_id)
    return {c.id for c in clients if c.id not in own and c.workspace_id not in defaults}


def alerts_for_event(incident: Incident, kind: str, sequence: int = 0, *, at: datetime | None = None) -> list[Alert]:
    """Queue one alert per channel the incident's client is routed to, unless maintenance or flapping holds
    it; with no channel at all, the timeline says that nobody was told."""
    monitor = incident.monitor
    at = at or timezone.now()
    held = held_by(monitor, timezone.now())
    if held:
        IncidentEvent.objects.create(incident=incident, at=at, kind=IncidentEvent.Kind.HELD, detail=held)
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
    channels = routed_channels(monitor.client_id)
    if kind != Alert.Kind.DOWN:  # whoever heard it went down hears the rest, wherever alerts go since
        heard = AlertChannel.objects.filter(alerts__incident=incident, enabled=True).exclude(
            id__in=[c.id for c in channels]
        )
        channels += list(heard.distinct())
    if not channels:
        IncidentEvent.objects.create(
            incident=incident, at=at, kind=IncidentEvent.Kind.NO_CHANNEL, detail=NOBODY_TOLD.get(Alert.Kind(kind), "")
        )
        return []
    key = f"incident:{incident.id}:{kind}:{sequence}"
    return alerts_for(monitor.client_id, kind, key, incident=incident, sequence=sequence, channels=channels)


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
            IncidentEvent.objects.create(
                incident=incident, at=now, kind=IncidentEvent.Kind.REMINDER, detail=f"reminder {sequence}: still down"
            )
            alerts_for_event(incident, Alert.Kind.REMINDER, sequence, at=now)
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
    channels: list[AlertChannel] | None = None,
) -> list[Alert]:
    """Queue one alert per channel the client is routed to; an event already queued for a channel is not
    queued again."""
    if channels is None:
        channels = routed_channels(client_id)
    if not channels:
        return []
    before = set(Alert.objects.filter(channel__in=channels, dedupe_key=key).values_list("id", flat=True))
    Alert.objects.bulk_create(
        [
            Alert(
                channel=c,
                client_id=client_id,
                incident=incident,
                kind=kind,
                sequence=sequence,
                dedupe_key=key,
                payload=payload or {},
            )
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
    alert = Alert.objects.create(
        channel=channel, client=channel.client, kind=Alert.Kind.TEST, dedupe_key=f"test:{time.time_ns()}"
    )
    from monitoring.tasks import send_alert_task

    transaction.on_commit(lambda: send_alert_task.delay(alert.id))
    return alert


def open_incidents_to(channel: AlertChannel) -> list[Alert]:
    """A channel just added (or enabled) hears of the outages still open among the clients it speaks for:
    one alert per incident, under the incident's own key for its down alert, so none is ever sent twice.
    Outages inside a maintenance window stay held, as their alerts would have been."""
    if not channel.enabled:
        return []
    if channel.client_id is not None:
        clients = Client.objects.filter(pk=channel.client_id)
    else:  # a workspace default speaks for the clients with no enabled channel of their own
        clients = Client.objects.filter(workspace_id=channel.owner_workspace_id).exclude(alert_channels__enabled=True)
    now = timezone.now()
    incidents = [
        i
        for i in Incident.objects.filter(ended_at__isnull=True, monitor__client__in=clients).select_related(
            "monitor__client"
        )
        if not held_by(i.monitor, now).startswith("maintenance")
    ]
    if not incidents:
        return []
    mine = Alert.objects.filter(channel=channel, incident__in=incidents, kind=Alert.Kind.DOWN)
    before = set(mine.values_list("id", flat=True))  # already queued: neither sent again nor counted again
    Alert.objects.bulk_create(
        [
            Alert(
                channel=channel,
                client_id=i.monitor.client_id,
                incident=i,
                kind=Alert.Kind.DOWN,
                dedupe_key=f"incident:{i.id}:{Alert.Kind.DOWN}:0",
                payload={
                    "subject": f"Still down: {i.monitor.url}",
                    "detail": f"Down since {i.started_at:%-d %b %H:%M} UTC, before this channel was added"
                    + (f": {i.detail}" if i.detail else "."),
                },
            )
            for i in incidents
        ],
        ignore_conflicts=True,
    )
    alerts = list(mine.filter(state=Alert.State.PENDING).exclude(id__in=before))
    from monitoring.tasks import send_alert_task

    ids = [a.id for a in alerts]
    transaction.on_commit(lambda: [send_alert_task.delay(i) for i in ids])
    return alerts


def send(alert_id: int) -> str:
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
    client = alert.client or alert.channel.client
    who = client.name if client else str(alert.channel.workspace)
    subject = alert.payload.get("subject") or {
        Alert.Kind.DOWN: f"DOWN: {monitor.url if monitor else ''}",
        Alert.Kind.UP: f"Recovered: {monitor.url if monitor else ''}",
        Alert.Kind.REMINDER: f"Still down: {monitor.url if monitor else ''}",
        Alert.Kind.TEST: f"Test alert for {who}",
    }.get(Alert.Kind(alert.kind), alert.get_kind_display())
    link = f"{settings.SITE_URL}/clients/{client.code}/monitoring/" if client else f"{settings.SITE_URL}/monitoring/"
    return {
        "event": alert.kind,
        "subject": subject,
        "client": who,
        "url": monitor.url if monitor else None,
        "cause": incident.get_cause_display() if incident else None,
        "detail": alert.payload.get("detail")
        or (incident.detail if incident else "This is a test: alerts for this channel work."),
        "started_at": incident.started_at.isoformat() if incident else None,
        "ended_at": incident.ended_at.isoformat() if incident and incident.ended_at else None,
        "incident": str(incident.code) if incident else None,
        "link": link,
    }


def _email(alert: Alert, facts: dict[str, Any]) -> None:
    channel = alert.channel
    to = channel.recipients or _people(alert)
    if not to:
        raise TransportError("nobody to email: add recipients or a founder", permanent=True)
    text = render_text("monitoring/email/alert-body-text.txt", facts)
    html = render_email_html("monitoring/email/alert-body-html.html", facts)
    mail = EmailMultiAlternatives(f"[Launch Ready] {facts['subject']}", text, to=to)
    mail.attach_alternative(html, "text/html")
    try:
        mail.send()
    except OSError as exc:
        raise TransportError(f"the mail server did not take it: {type(exc).__name__}") from None


def _people(alert: Alert) -> list[str]:
    """An email channel without recipients: the consultants, and the founders of the client the alert is
    about (a workspace default channel speaks for whichever client it is)."""
    client = alert.client or alert.channel.client
    members = Membership.objects.filter(workspace_id=alert.channel.owner_workspace_id).select_related("user")
    return sorted(
        {
            m.user.email
            for m in members
            if m.role in STAFF_ROLES or (client is not None and m.role == Role.FOUNDER and m.client_id == client.id)
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
