"""The monitoring's part of each client's status row (launchready/status.py), in three parts refreshed apart:

- its monitors: how many, how many down (paused ones apart, and with them), paused, and its incidents still
  open. Refreshed when a monitor is added, edited, removed, paused or resumed, or changes state in a probe round,
  and when an incident opens or closes;
- its heartbeats (background jobs): how many, and how many of those not paused are late or failed, as the
  alerts see them (`job_state`). Refreshed when one is added, edited or removed, paused or resumed, when the
  lateness sweep alerts it or its return, and when a ping changes what it is (a /fail, or the ping that ends a
  lateness or a failure; the many pings that change nothing refresh nothing);
- its journeys: how many are enabled, how many of those are failing, and the name of the one failing when there
  is only one. Refreshed when one is added, edited (enabled, disabled, renamed) or removed, and when a run moves
  its state.

monitoring/apps.py connects the signals; the scheduler, the sweep, the pings and the pause views call the
refreshes where they update rows without saving them. `troubles` says what is wrong in words, for the dashboard,
the overview and the client page alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q
from django.utils import timezone

from launchready import status
from launchready.formatting import plural
from launchready.models import ClientStatus
from monitoring import heartbeat_schedule as schedule
from monitoring.models import Heartbeat, Incident, Journey, Monitor

FIELDS = ("monitors", "down", "active_down", "paused", "open_incidents")
JOB_FIELDS = ("heartbeats", "heartbeats_late", "heartbeats_failed")
JOURNEY_FIELDS = ("journeys", "journeys_failing", "failing_journey")

LATE = "late"
FAILED = "failed"
# What the sweep and the pings need of a heartbeat to tell whether it is late or failed.
JOB_STATE_FIELDS = (
    *("id", "client", "client__timezone", "paused", "alerted", "schedule", "cron", "period_minutes"),
    *("grace_minutes", "last_ping_at", "last_success_at", "last_failure_at", "started_at", "resumed_at"),
)
NAME_SHOWN = 60  # characters of a failing journey's name in a line of the dashboard or the overview


def _compute(client_ids: list[int]) -> dict[int, dict[str, Any]]:
    down = Q(state=Monitor.State.DOWN)
    out: dict[int, dict[str, Any]] = {
        row.pop("client_id"): row
        for row in Monitor.objects.filter(client_id__in=client_ids)
        .order_by()
        .values("client_id")
        .annotate(
            monitors=Count("id"),
            down=Count("id", filter=down),
            active_down=Count("id", filter=down & Q(paused=False)),
            paused=Count("id", filter=Q(paused=True)),
        )
    }
    for client_id, n in (
        Incident.objects.filter(monitor__client_id__in=client_ids, ended_at__isnull=True)
        .order_by()
        .values("monitor__client_id")
        .annotate(n=Count("id"))
        .values_list("monitor__client_id", "n")
    ):
        out.setdefault(client_id, {})["open_incidents"] = n
    return out


def refresh(client_ids: Iterable[int]) -> None:
    """Recompute the monitors' part of these clients' status rows from their monitors and incidents."""
    status.refresh(client_ids, FIELDS, _compute)


# --- Heartbeats -----------------------------------------------------------------------------------------------


def job_state(heartbeat: Heartbeat, now: datetime) -> str:
    """What the status row counts the heartbeat (with its client) as: FAILED when its latest run said /fail and
    no success came since, LATE when the sweep alerted it late (or stuck) and no ping has put it right since,
    "" otherwise (paused ones included). Late is the alerts' word, not the clock's: a heartbeat becomes late
    with no write, and the sweep is what notices it (within a minute), so the row moves with the alert."""
    if heartbeat.paused:
        return ""
    state = schedule.status(heartbeat, now, schedule.zone(heartbeat.client.timezone)).state
    if state == schedule.State.FAILED:
        return FAILED
    if state == schedule.State.LATE and heartbeat.alerted == Heartbeat.Alerted.DOWN:
        return LATE
    return ""


def _compute_jobs(client_ids: list[int]) -> dict[int, dict[str, Any]]:
    now = timezone.now()
    out: dict[int, dict[str, Any]] = {}
    heartbeats = Heartbeat.objects.filter(client_id__in=client_ids).select_related("client").only(*JOB_STATE_FIELDS)
    for heartbeat in heartbeats.order_by():
        row = out.setdefault(heartbeat.client_id, {"heartbeats": 0, "heartbeats_late": 0, "heartbeats_failed": 0})
        row["heartbeats"] += 1
        state = job_state(heartbeat, now)
        if state:
            row[f"heartbeats_{state}"] += 1
    return out


def refresh_jobs(client_ids: Iterable[int]) -> None:
    """Recompute the heartbeats' part of these clients' status rows: one query for all their heartbeats."""
    status.refresh(client_ids, JOB_FIELDS, _compute_jobs)


# --- Journeys -------------------------------------------------------------------------------------------------


def _compute_journeys(client_ids: list[int]) -> dict[int, dict[str, Any]]:
    failing = Q(state=Monitor.State.DOWN)
    out: dict[int, dict[str, Any]] = {}
    for row in (
        Journey.objects.filter(client_id__in=client_ids, enabled=True)
        .order_by()
        .values("client_id")
        .annotate(journeys=Count("id"), journeys_failing=Count("id", filter=failing), name=Max("name", filter=failing))
    ):
        out[row["client_id"]] = {
            "journeys": row["journeys"],
            "journeys_failing": row["journeys_failing"],
            "failing_journey": row["name"] if row["journeys_failing"] == 1 else "",
        }
    return out


def refresh_journeys(client_ids: Iterable[int]) -> None:
    """Recompute the journeys' part of these clients' status rows: one query for all their journeys."""
    status.refresh(client_ids, JOURNEY_FIELDS, _compute_journeys)


def refresh_all_parts(client_ids: Iterable[int]) -> None:
    """The monitoring's whole part of these clients' rows: monitors, heartbeats and journeys."""
    ids = list(client_ids)
    refresh(ids)
    refresh_jobs(ids)
    refresh_journeys(ids)


# --- In words ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trouble:
    text: str  # "2 routes down", "1 job late", "Sign-in journey failing"
    tone: str  # "stop" or "warn", for the badge


def _journey_words(status_row: ClientStatus) -> str:
    name = " ".join(status_row.failing_journey.split())
    if status_row.journeys_failing != 1 or not name:
        return f"{plural(status_row.journeys_failing, 'journey')} failing"
    if len(name) > NAME_SHOWN:
        name = name[: NAME_SHOWN - 1] + "…"
    return f"{name} failing" if name.lower().endswith("journey") else f"{name} journey failing"


def troubles(status_row: ClientStatus, routes_down: int | None = None) -> list[Trouble]:
    """What is down or failing for the client, from its status row, in plain English: its routes down (active
    ones, unless the page counts otherwise), its jobs late and failed, its journeys failing. Empty when all is
    well. Names stay plain text: the templates escape them."""
    down = status_row.active_down if routes_down is None else routes_down
    out = []
    if down:
        out.append(Trouble(f"{plural(down, 'route')} down", "stop"))
    if status_row.heartbeats_failed:
        out.append(Trouble(f"{plural(status_row.heartbeats_failed, 'job')} failed", "stop"))
    if status_row.heartbeats_late:
        out.append(Trouble(f"{plural(status_row.heartbeats_late, 'job')} late", "warn"))
    if status_row.journeys_failing:
        out.append(Trouble(_journey_words(status_row), "stop"))
    return out


def watched(status_row: ClientStatus) -> bool:
    """Whether anything of the client is watched: a monitor, a heartbeat or an enabled journey."""
    return bool(status_row.monitors or status_row.heartbeats or status_row.journeys)
