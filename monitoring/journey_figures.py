"""A journey's figures in plain English: how many scheduled runs passed and how fast, for the whole journey
and for each step, over the last 24 hours and the last 7 days (from monitoring/journey_rollup.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from launchready.formatting import latency, percent, plural
from monitoring import journey_rollup
from monitoring.journey_rollup import JourneyWindow
from monitoring.models import Journey, JourneyStep

DAY_HOURS = 24
WEEK_HOURS = 7 * 24


@dataclass(frozen=True)
class Figures:
    runs: int
    passed: str  # "287 of 288 runs passed (99.65%)", or "no scheduled run yet"
    p95: str  # "1.2 s", or "—"


def journey_figures(window: JourneyWindow) -> Figures:
    if not window.runs:
        return Figures(0, "no scheduled run yet", latency(None))
    ok = window.runs - window.failures
    return Figures(
        window.runs, f"{ok:,} of {plural(window.runs, 'run')} passed ({percent(window.uptime)})", latency(window.p95)
    )


@dataclass(frozen=True)
class StepRow:
    number: int
    name: str
    p95_day: str
    p95_week: str


@dataclass(frozen=True)
class JourneyTimings:
    day: Figures
    week: Figures
    steps: list[StepRow]

    @property
    def any(self) -> bool:
        return bool(self.week.runs)


def journey_timings(journey: Journey, steps: list[JourneyStep], now: datetime | None = None) -> JourneyTimings:
    """The journey page's table: the journey's p95 and each step's, over 24 hours and 7 days (two queries)."""
    day = journey_rollup.last_hours([journey.id], DAY_HOURS, now)[journey.id]
    week = journey_rollup.last_hours([journey.id], WEEK_HOURS, now)[journey.id]
    rows = [
        StepRow(s.order + 1, s.name, latency(day.step_p95(s.order)), latency(week.step_p95(s.order))) for s in steps
    ]
    return JourneyTimings(journey_figures(day), journey_figures(week), rows)
