"""A journey's outages as incidents, the way a route's are: opened when the journey is marked failing (its
first failed run, then the run that marked it, naming the failing step and why), told to the client's channels
or noted as told to nobody, and closed once when it passes again."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from monitoring.alerts import NOBODY_TOLD, alerts_for, routed_channels
from monitoring.models import (
    Alert,
    AlertChannel,
    IncidentEvent,
    Journey,
    JourneyIncident,
    JourneyIncidentEvent,
    JourneyRun,
)

DETAIL = 300


def failing_step_name(run: JourneyRun) -> str:
    steps = run.steps or []
    index = run.failing_step
    return str(steps[index].get("name", "")) if index is not None and index < len(steps) else ""


def step_words(order: int | None, name: str) -> str:
    """ "step 2, “Open the dashboard”": the step as the journey page numbers it."""
    if order is None:
        return ""
    return f"step {order + 1}, “{name}”" if name else f"step {order + 1}"


def why(run: JourneyRun) -> str:
    return (f"{run.summary}. {run.detail}".strip() if run.detail else run.summary)[:DETAIL]


def open_incident(journey: Journey, run: JourneyRun) -> JourneyIncident:
    """The outage the run just marked, from the first failed run in a row (one query for the run of failures
    while the journey still keeps them, else counted back by its interval)."""
    failures = journey.consecutive_failures
    earlier = list(
        JourneyRun.objects.filter(journey=journey, trigger=JourneyRun.Trigger.MONITOR, started_at__lte=run.started_at)
        .order_by("-started_at")
        .values_list("started_at", "ok", "summary")[:failures]
    )
    first_at, first_summary = run.started_at - timedelta(seconds=journey.interval * (failures - 1)), run.summary
    for at, ok, summary in earlier:
        if ok:
            break
        first_at, first_summary = at, summary
    name = failing_step_name(run)
    step = step_words(run.failing_step, name)
    incident = JourneyIncident.objects.create(
        journey=journey,
        started_at=first_at,
        failing_step=run.failing_step,
        step_name=name[:120],
        detail=why(run),
    )
    opened = f"{failures} failed runs in a row" + (f"; {step} failed: " if step else ": ") + why(run)
    JourneyIncidentEvent.objects.bulk_create(
        [
            JourneyIncidentEvent(
                incident=incident, at=first_at, kind=IncidentEvent.Kind.FIRST_FAILURE, detail=first_summary[:DETAIL]
            ),
            JourneyIncidentEvent(
                incident=incident, at=run.started_at, kind=IncidentEvent.Kind.OPENED, detail=opened[:DETAIL]
            ),
        ]
    )
    return incident


def close_incidents(journey: Journey, run: JourneyRun) -> list[JourneyIncident]:
    closed = []
    for incident in JourneyIncident.objects.filter(journey=journey, ended_at__isnull=True):
        incident.ended_at = run.started_at
        incident.save(update_fields=["ended_at"])
        JourneyIncidentEvent.objects.create(
            incident=incident,
            at=run.started_at,
            kind=IncidentEvent.Kind.RECOVERED,
            detail=f"{journey.consecutive_successes} passed runs in a row",
        )
        closed.append(incident)
    return closed


def tell(journey: Journey, run: JourneyRun, state: str, incident: JourneyIncident | None, at: datetime) -> list[Alert]:
    """The alert of a journey going down or coming back, once per outage and channel; whoever heard it went down
    hears that it recovered. With no channel at all, the incident's timeline says nobody was told."""
    if state == "down":
        detail = f"{journey.consecutive_failures} failed runs in a row: {why(run)}"
    else:
        detail = f"{journey.consecutive_successes} passed runs in a row: {run.summary}"
    channels = routed_channels(journey.client_id)
    if state == "up":
        heard = AlertChannel.objects.filter(
            alerts__dedupe_key=f"journey:{journey.id}:{journey.outages}:down", enabled=True
        ).exclude(id__in=[c.id for c in channels])
        channels += list(heard.distinct())
    if not channels:
        if incident is not None:
            JourneyIncidentEvent.objects.create(
                incident=incident,
                at=at,
                kind=IncidentEvent.Kind.NO_CHANNEL,
                detail=NOBODY_TOLD[Alert.Kind.DOWN if state == "down" else Alert.Kind.UP],
            )
        return []
    payload: dict[str, Any] = {"journey": journey.name, "state": state, "detail": detail[:1000], "run": str(run.code)}
    if incident is not None:
        payload["incident"] = incident.id  # the delivery notes on its timeline that the alert went out
        step = step_words(incident.failing_step, incident.step_name)
        if step:
            payload["step"] = step
    return alerts_for(
        journey.client_id,
        Alert.Kind.JOURNEY,
        f"journey:{journey.id}:{journey.outages}:{state}",
        payload=payload,
        channels=channels,
    )
