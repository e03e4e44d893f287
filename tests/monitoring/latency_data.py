"""Builders for the latency tests: probes at a steady pace, rolled up hour by hour by the product's rollup code
as its task would have by a given time."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitoring.models import Monitor, Probe
from monitoring.rollup import HOUR, hour_start, rollup_hour


def probe(monitor: Monitor, start: datetime, end: datetime, latency: float, every: int = 60) -> int:
    """A successful probe every `every` seconds in [start, end), each `latency` ms; returns how many."""
    probes = []
    at = start
    while at < end:
        probes.append(Probe(monitor=monitor, at=at, ok=True, status=200, latency_ms=latency))
        at += timedelta(seconds=every)
    Probe.objects.bulk_create(probes)
    return len(probes)


def roll_up(first: datetime, now: datetime) -> None:
    """The hourly rollups the rollup task would have built by `now`, the hour still going included."""
    hour = hour_start(first)
    while hour <= now:
        rollup_hour(hour)
        hour += HOUR


def deploy_hours(monitor: Monitor, deployed: datetime, before: float, after: float, until: datetime) -> None:
    """A minute-by-minute day before the deploy at `before` ms, then `after` ms until `until`, rolled up."""
    probe(monitor, deployed - timedelta(hours=25), deployed, before)
    probe(monitor, deployed, until, after)
    roll_up(deployed - timedelta(hours=25), until)
