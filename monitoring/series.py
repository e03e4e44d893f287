"""The series behind a monitor's charts: probes and failures per day for the uptime bar, p95 per hour for
the latency line.

The rollup task rebuilds only today's and yesterday's daily rollups and this hour's and the last one's
hourly rollups; everything older is settled. The settled part of each monitor's series is kept in the
cache and only what settled since it was last read is added (one hour, or one day): by the rollup task as
soon as an hour or a day settles (`settle`), or by the page that finds it missing. The live part is read on
every request: the last two hours' rollups, and yesterday's and today's counts from the monitor's tallies.
A page of charts costs the same whatever the length of the history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache

from monitoring import histogram, tallies
from monitoring.models import Monitor, Rollup
from monitoring.rollup import DAY, HOUR, day_start, hour_start

SETTLED_TTL = 26 * 3600

Day = tuple[datetime, int, int]  # day start, probes, failures


def daily_counts(monitors: Sequence[Monitor], now: datetime, days: int) -> dict[int, list[Day]]:
    """(day, probes, failures) of each monitor over the last `days` days, oldest first. Yesterday and today come
    from the monitors' tallies (monitoring/tallies.py): every probe recorded counts at once, so a monitor made a
    minute ago shows, and no raw probe is read."""
    today = day_start(now)
    first, live_from = today - timedelta(days=days - 1), today - DAY
    series = _settled([m.id for m in monitors], f"bar-settled:{days}", first, live_from, _daily)
    for m in monitors:
        counted = tallies.live_days(
            m.tally_day, m.tally_probes, m.tally_failures, m.tally_prev_probes, m.tally_prev_failures, today.date()
        )
        for day, (n, f) in counted.items():
            start = datetime(day.year, day.month, day.day, tzinfo=today.tzinfo)
            if n and start >= first:
                series[m.id][start] = (n, f)
    return {mid: [(day, n, f) for day, (n, f) in sorted(counts.items())] for mid, counts in series.items()}


def hourly_p95(ids: list[int], now: datetime, hours: int) -> dict[int, dict[datetime, float]]:
    """The p95 latency of each hour of each monitor over the last `hours` hours (hours without a successful
    probe are absent), from the buckets of its hourly rollups."""
    this_hour = hour_start(now)
    first, live_from = this_hour - timedelta(hours=hours - 1), this_hour - HOUR
    series = _settled(ids, f"p95-settled:{hours}", first, live_from, _p95s)
    for mid, p95s in _p95s(ids, max(first, live_from), this_hour + HOUR).items():
        series[mid] |= p95s
    return series


Fetch = Callable[[list[int], datetime, datetime], dict[int, dict[datetime, Any]]]
SETTLED_UNTIL = "charts-settled-until"


def settle(now: datetime, days: int, hours: int, batch: int = 500) -> int:
    """Add to every monitor's cached settled points what has settled since they were last extended: called by
    the rollup task once it has rebuilt the live hours and days, so that a page finds its charts' history in the
    cache even on the first visit of a client in the hour (only the live part is read then). Once an hour:
    until the next hour starts nothing more settles. Returns the monitors whose points were extended."""
    this_hour = hour_start(now)
    if cache.get(SETTLED_UNTIL) == this_hour:
        return 0
    ids = list(Monitor.objects.order_by("id").values_list("id", flat=True))
    today = day_start(now)
    for i in range(0, len(ids), batch):
        chunk = ids[i : i + batch]
        _settled(chunk, f"bar-settled:{days}", today - timedelta(days=days - 1), today - DAY, _daily)
        _settled(chunk, f"p95-settled:{hours}", this_hour - timedelta(hours=hours - 1), this_hour - HOUR, _p95s)
    cache.set(SETTLED_UNTIL, this_hour, timeout=2 * 3600)
    return len(ids)


def _settled(
    ids: list[int], name: str, first: datetime, live_from: datetime, fetch: Fetch
) -> dict[int, dict[datetime, Any]]:
    """Each monitor's settled points in [first, live_from). The cache holds, per monitor, the points and how
    far they reach; what the window gained since (an hour or a day, as time moves on) is read and added, what
    it lost is dropped, so a page reads only what settled since it was last seen."""
    keys = {mid: f"{name}:{mid}" for mid in ids}
    found = cache.get_many(list(keys.values()))
    series: dict[int, dict[datetime, Any]] = {}
    gaps: dict[datetime, list[int]] = defaultdict(list)  # the monitors to read from each point in time
    for mid, key in keys.items():
        reach, points = found.get(key, (first, {}))
        series[mid] = {at: value for at, value in points.items() if first <= at < live_from}
        if reach < live_from:
            gaps[max(reach, first)].append(mid)
    for since, mids in gaps.items():
        fresh = fetch(mids, since, live_from)
        for mid in mids:
            series[mid] |= fresh.get(mid, {})
    stale = [mid for mids in gaps.values() for mid in mids]
    if stale:
        cache.set_many({keys[mid]: (live_from, series[mid]) for mid in stale}, timeout=SETTLED_TTL)
    return {mid: dict(points) for mid, points in series.items()}


def _daily(ids: Iterable[int], start: datetime, end: datetime) -> dict[int, dict[datetime, tuple[int, int]]]:
    out: dict[int, dict[datetime, tuple[int, int]]] = defaultdict(dict)
    rows = Rollup.objects.filter(monitor_id__in=ids, period=Rollup.Period.DAY, start__gte=start, start__lt=end)
    for mid, at, n, f in rows.values_list("monitor_id", "start", "probes", "failures"):
        out[mid][day_start(at)] = (n, f)
    return out


def _p95s(ids: Iterable[int], start: datetime, end: datetime) -> dict[int, dict[datetime, float]]:
    merged: dict[int, dict[datetime, list[int]]] = defaultdict(dict)
    rows = Rollup.objects.filter(monitor_id__in=ids, period=Rollup.Period.HOUR, start__gte=start, start__lt=end)
    for mid, at, hist in rows.values_list("monitor_id", "start", "histogram"):
        hours = merged[mid]
        key = hour_start(at)
        hours[key] = histogram.merge([hours[key], hist]) if key in hours else hist
    out: dict[int, dict[datetime, float]] = {}
    for mid, hours in merged.items():
        p95s = {key: histogram.percentile(counts, 0.95) for key, counts in hours.items() if counts}
        out[mid] = {key: value for key, value in p95s.items() if value is not None}
    return out
