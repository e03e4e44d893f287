"""The incidents a client's monitoring page lists: its routes' outages and its journeys' together, newest
first, each with what failed (the route, or the journey and its failing step), why, and its timeline. Four
queries at most whatever their number: each kind, and each kind's timelines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from launchready.models import Client
from monitoring.journey_incidents import step_words
from monitoring.models import Incident, JourneyIncident

SHOWN = 20


@dataclass(frozen=True)
class IncidentRow:
    what: str  # the route's URL, or "Journey “Sign in”"
    step: str  # for a journey: "step 2, “Open the dashboard”"
    is_open: bool
    cause: str
    detail: str
    started_at: datetime
    events: list[Any]


def route_row(incident: Incident) -> IncidentRow:
    return IncidentRow(
        incident.monitor.url,
        "",
        incident.is_open,
        incident.get_cause_display(),
        incident.detail,
        incident.started_at,
        list(incident.events.all()),
    )


def journey_row(incident: JourneyIncident) -> IncidentRow:
    return IncidentRow(
        f"Journey “{incident.journey.name}”",
        step_words(incident.failing_step, incident.step_name),
        incident.is_open,
        "Journey failed",
        incident.detail,
        incident.started_at,
        list(incident.events.all()),
    )


def journey_incidents(journey_ids: list[int], limit: int = SHOWN) -> list[IncidentRow]:
    rows = (
        JourneyIncident.objects.filter(journey_id__in=journey_ids)
        .select_related("journey")
        .prefetch_related("events")
        .order_by("-started_at")[:limit]
    )
    return [journey_row(i) for i in rows]


def client_incidents(client: Client, journey_ids: list[int], limit: int = SHOWN) -> list[IncidentRow]:
    """The client's latest incidents; its journeys' are read only when it has journeys (`journey_ids`, the
    page's own list of them)."""
    routes = (
        Incident.objects.filter(monitor__client=client)
        .select_related("monitor")
        .prefetch_related("events")
        .order_by("-started_at")[:limit]
    )
    rows = [route_row(i) for i in routes] + (journey_incidents(journey_ids, limit) if journey_ids else [])
    return sorted(rows, key=lambda r: r.started_at, reverse=True)[:limit]
