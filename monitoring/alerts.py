"""Queueing alerts: where a client's alerts go, and one row per channel and event, enqueued to be sent once
that row is committed (unless a hold rule keeps it back)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from launchready.models import Client
from monitoring.alert_tasks import send_alert_task
from monitoring.holds import FLAPPING_INCIDENTS, held_by
from monitoring.models import Alert, AlertChannel, Incident, IncidentEvent

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
                    "url": monitor.url,
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
    ids = [a.id for a in alerts]
    transaction.on_commit(lambda: [send_alert_task.delay(i) for i in ids])
    return alerts


def test_alert(channel: AlertChannel) -> Alert:
    """The "send test alert" button: a one-off alert with no incident."""
    alert = Alert.objects.create(
        channel=channel, client=channel.client, kind=Alert.Kind.TEST, dedupe_key=f"test:{time.time_ns()}"
    )
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
                    "still_down": True,  # its subject says so: the outage began before the channel existed
                    "detail": f"Down since {i.started_at:%-d %b %H:%M} UTC, before this channel was added"
                    + (f": {i.detail}" if i.detail else "."),
                },
            )
            for i in incidents
        ],
        ignore_conflicts=True,
    )
    alerts = list(mine.filter(state=Alert.State.PENDING).exclude(id__in=before))
    ids = [a.id for a in alerts]
    transaction.on_commit(lambda: [send_alert_task.delay(i) for i in ids])
    return alerts
