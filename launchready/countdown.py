"""The 48-hour sprint countdown, in words a founder reads at a glance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Countdown:
    text: str
    overdue: bool
    not_started: bool
    percent_elapsed: int


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 72:  # a sprint is counted in hours; anything past three days in days
        days, hours = divmod(hours, 24)
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def countdown(started_at: datetime, deadline: datetime, now: datetime) -> Countdown:
    total = (deadline - started_at).total_seconds() or 1
    if now < started_at:
        return Countdown(f"starts in {_span(started_at - now)}", False, True, 0)
    if now >= deadline:
        return Countdown(f"overdue by {_span(now - deadline)}", True, False, 100)
    elapsed = int(100 * (now - started_at).total_seconds() / total)
    return Countdown(f"{_span(deadline - now)} left", False, False, max(0, min(100, elapsed)))
