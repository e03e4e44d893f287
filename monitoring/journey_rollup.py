"""Journeys' timings rolled up as route probes are: per hour and per day, the runs, the failures and a
fixed-bucket histogram of the whole run and of each step, p95 over any window from them.

A journey keeps only its last runs (monitoring/journeys.py RUNS_KEPT: under an hour at one run a minute), so
the rollups cannot be rebuilt from stored runs as the probes' are: each round of scheduled runs is added to its
journeys' hourly and daily rows as it is recorded, in two queries whatever the round's size (a journey is
claimed by one worker at a time, and its rows are locked while they are added to). Runs by hand and deploy
smoke tests are not counted: the figures are the monitor's. A run's time counts in the journey's histogram when
the run passed, a step's in the step's when that step passed (a slow failure is no latency figure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from monitoring import histogram
from monitoring.models import JourneyRollup, JourneyRun, Rollup
from monitoring.rollup import DAY, HOUR, day_start, hour_start

HOURLY_KEPT = timedelta(days=35)
DAILY_KEPT = timedelta(days=400)

Key = tuple[int, str, datetime]  # journey, period, start


@dataclass
class JourneyWindow:
    """A journey's scheduled runs over a window."""

    runs: int = 0
    failures: int = 0
    histogram: list[int] = field(default_factory=histogram.empty)
    step_histograms: list[list[int]] = field(default_factory=list)

    @property
    def uptime(self) -> float | None:
        return None if not self.runs else 100.0 * (self.runs - self.failures) / self.runs

    @property
    def p95(self) -> float | None:
        return histogram.percentile(self.histogram, 0.95)

    def step_p95(self, order: int) -> float | None:
        if order >= len(self.step_histograms):
            return None
        return histogram.percentile(self.step_histograms[order], 0.95)

    def add(self, runs: int, failures: int, hist: Sequence[int], steps: Sequence[Sequence[int]]) -> None:
        self.runs += runs
        self.failures += failures
        self.histogram = histogram.merge([self.histogram, hist])
        while len(self.step_histograms) < len(steps):
            self.step_histograms.append(histogram.empty())
        for i, counts in enumerate(steps):
            self.step_histograms[i] = histogram.merge([self.step_histograms[i], counts])


def _counted(run: JourneyRun) -> tuple[list[int], list[list[int]]]:
    """The run's own histogram and each step's: one sample each, where it passed."""
    hist = histogram.empty()
    if run.ok:
        histogram.add(hist, run.ms)
    steps = []
    for step in run.steps or []:
        counts = histogram.empty()
        if step.get("ran") and step.get("ok"):
            histogram.add(counts, float(step.get("ms") or 0))
        steps.append(counts)
    return hist, steps


def add_runs(runs: Iterable[JourneyRun]) -> int:
    """Count scheduled runs in their journeys' hourly and daily rollups. Returns the rows written."""
    fresh: dict[Key, JourneyWindow] = {}
    for run in runs:
        if run.trigger != JourneyRun.Trigger.MONITOR:
            continue
        hist, steps = _counted(run)
        periods: tuple[tuple[str, datetime], ...] = (
            (Rollup.Period.HOUR, hour_start(run.started_at)),
            (Rollup.Period.DAY, day_start(run.started_at)),
        )
        for period, start in periods:
            fresh.setdefault((run.journey_id, period, start), JourneyWindow()).add(1, 0 if run.ok else 1, hist, steps)
    if not fresh:
        return 0
    # The round's journeys and the hour and day they ran in (a round straddles two of each at most): what the
    # query finds beyond the round's own rows is left alone.
    journey_ids = {jid for jid, _, _ in fresh}
    starts = {start for _, _, start in fresh}
    with transaction.atomic():
        existing = (
            JourneyRollup.objects.select_for_update()
            .filter(journey_id__in=journey_ids, start__in=starts)
            .order_by("id")
            .values_list("journey_id", "period", "start", "runs", "failures", "histogram", "step_histograms")
        )
        for jid, period_name, start, runs_n, failures, hist, steps_hist in existing:
            acc = fresh.get((jid, period_name, start))
            if acc is not None:
                acc.add(runs_n, failures, hist, steps_hist)
        JourneyRollup.objects.bulk_create(
            [
                JourneyRollup(
                    journey_id=journey_id,
                    period=period,
                    start=start,
                    runs=acc.runs,
                    failures=acc.failures,
                    histogram=acc.histogram,
                    step_histograms=acc.step_histograms,
                )
                for (journey_id, period, start), acc in fresh.items()
            ],
            update_conflicts=True,
            unique_fields=["journey", "period", "start"],
            update_fields=["runs", "failures", "histogram", "step_histograms"],
        )
    return len(fresh)


def windows(journey_ids: list[int], start: datetime, end: datetime) -> dict[int, JourneyWindow]:
    """Each journey's runs over [start, end) in one query: the whole days from daily rows, the hours at the
    edges from hourly ones (every row is up to date as soon as a round is recorded; nothing is read raw)."""
    out = {jid: JourneyWindow() for jid in journey_ids}
    if not journey_ids:
        return out
    first_whole = day_start(start) if day_start(start) == start else day_start(start) + DAY
    last_whole = max(day_start(end), first_whole)
    hours = Q(period=Rollup.Period.HOUR) & (
        Q(start__gte=start, start__lt=min(first_whole, end)) | Q(start__gte=max(last_whole, start), start__lt=end)
    )
    days = Q(period=Rollup.Period.DAY, start__gte=first_whole, start__lt=last_whole)
    rows = JourneyRollup.objects.filter(journey_id__in=journey_ids).filter(hours | days)
    for jid, runs, failures, hist, steps in rows.values_list(
        "journey_id", "runs", "failures", "histogram", "step_histograms"
    ):
        out[jid].add(runs, failures, hist, steps)
    return out


def last_hours(journey_ids: list[int], hours: int, now: datetime | None = None) -> dict[int, JourneyWindow]:
    """The last `hours` hours, the one going included."""
    now = now or timezone.now()
    this_hour = hour_start(now)
    return windows(journey_ids, this_hour - timedelta(hours=hours - 1), this_hour + HOUR)


def prune(now: datetime | None = None) -> dict[str, int]:
    """Hourly rows kept 35 days, daily rows 400, as the routes' rollups."""
    now = now or timezone.now()
    hourly, _ = JourneyRollup.objects.filter(period=Rollup.Period.HOUR, start__lt=now - HOURLY_KEPT).delete()
    daily, _ = JourneyRollup.objects.filter(period=Rollup.Period.DAY, start__lt=now - DAILY_KEPT).delete()
    return {"journey_hourly": hourly, "journey_daily": daily}
