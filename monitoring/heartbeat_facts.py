"""A heartbeat as a reader sees it: its state, its schedule, its last ping, its next expected one and its last
run time, in words; the same on the monitoring page, in the handover pack and in the weekly report."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.utils.timesince import timeuntil

from launchready.formatting import ago, duration, moment
from monitoring import heartbeat_schedule as schedule
from monitoring.models import Heartbeat


@dataclass(frozen=True)
class HeartbeatFacts:
    id: int
    code: UUID
    client_id: int
    name: str
    kind: str
    kind_label: str
    schedule_text: str
    paused: bool
    state: str  # up, late, failed, never, paused (heartbeat_schedule.State)
    state_label: str
    running: bool
    last_ping_at: datetime | None
    last_ping_kind: str  # "succeeded", "started", "failed"; "" before the first ping
    last_ping_text: str  # "3 minutes ago (succeeded)", "never"
    last_ping_moment: str  # "Mon 3 Mar 14:05 CET (succeeded)", "never": for what is read later (the pack)
    expected_at: datetime | None
    expected_text: str  # "in 12 minutes (Mon 3 Mar 15:05 CET)", "—"
    run_seconds: float | None
    run_text: str  # "45 s", "—"
    last_body: str

    @property
    def alarming(self) -> bool:
        return self.state in (schedule.State.LATE, schedule.State.FAILED)


def _when(at: datetime, tz: zoneinfo.ZoneInfo) -> str:
    return f"{moment(at, tz)} {at.astimezone(tz).tzname() or ''}".rstrip()


def facts(heartbeat: Heartbeat, now: datetime) -> HeartbeatFacts:
    """The heartbeat (with its client) in words, at `now`."""
    tz = schedule.zone(heartbeat.client.timezone)
    status = schedule.status(heartbeat, now, tz)
    kind = heartbeat.get_last_ping_kind_display().lower() if heartbeat.last_ping_kind else ""
    last = "never" if heartbeat.last_ping_at is None else f"{ago(heartbeat.last_ping_at, now)} ({kind})"
    expected = status.expected_at
    if expected is None or heartbeat.paused:
        expected_text = "—"
    elif expected > now:
        expected_text = f"in {timeuntil(expected, now)} ({_when(expected, tz)})"
    else:
        expected_text = f"{ago(expected, now)} ({_when(expected, tz)})"
    run = heartbeat.last_run_seconds
    return HeartbeatFacts(
        id=heartbeat.id,
        code=heartbeat.code,
        client_id=heartbeat.client_id,
        name=heartbeat.name,
        kind=heartbeat.kind,
        kind_label=heartbeat.get_kind_display(),
        schedule_text=schedule.describe(heartbeat),
        paused=heartbeat.paused,
        state=status.state,
        state_label="Late: a run never finished" if status.stuck else status.label,
        running=status.running,
        last_ping_at=heartbeat.last_ping_at,
        last_ping_kind=kind,
        last_ping_text=last,
        last_ping_moment=f"{_when(heartbeat.last_ping_at, tz)} ({kind})" if heartbeat.last_ping_at else "never",
        expected_at=expected,
        expected_text=expected_text,
        run_seconds=run,
        run_text=duration(run) if run is not None else "—",
        last_body=heartbeat.last_body,
    )
