"""The series behind a monitor's charts: probes and failures per day for the uptime bar, p95 per hour for
the latency line.

The rollup task rebuilds only today's and yesterday's daily rollups and this hour's and the last one's
hourly rollups; everything older is settled. The settled part of each monitor's series is read once and
cached under the window's first day or hour, so it is asked for again only when the window moves on; the
live part is read on every request. A page of charts costs the same whatever the length of the history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q

from monitoring import histogram
from monitoring.models import Probe, Rollup
from monitoring.rollup import DAY, HOUR, day_start, hour_start

SETTLED_TTL = 26 * 3600

Day = tuple[datetime, int, int]  # day start, probes, failures


def daily_counts(ids: list[int], now: datetime, days: int) -> dict[int, list[Day]]:
    """(day, probes, failures) of each monitor over the last `days` days, oldest first; today's from the raw
    probes, so that a monitor made a minute ago shows at once."""
    today = day_start(now)
    first, live_from = today - timedelta(days=days - 1), today - DAY

    def settled(missing: list[int]) -> dict[int, list[Day]]:
        rows = _daily(missing, first, live_from)
        return {mid: rows.get(mid, []) for mid in missing}

    series = _with_cache(ids, f"bar-settled:{days}:{first:%Y%m%d}", settled)
    for mid, day in _daily(ids, max(first, live_from), today).items():
        series[mid] = [*series[mid], *day]
    for row in (
        Probe.objects.filter(monitor_id__in=ids, at__gte=today)
        .values("monitor_id")
        .annotate(n=Count("id"), f=Count("id", filter=Q(ok=False)))
    ):
        series[row["monitor_id"]] = [*series[row["monitor_id"]], (today, row["n"], row["f"])]
    return series


def hourly_p95(ids: list[int], now: datetime, hours: int) -> dict[int, dict[datetime, float]]:
    """The p95 latency of each hour of each monitor over the last `hours` hours (hours without a successful
    probe are absent), from the buckets of its hourly rollups."""
    this_hour = hour_start(now)
    first, live_from = this_hour - timedelta(hours=hours - 1), this_hour - HOUR

    def settled(missing: list[int]) -> dict[int, dict[datetime, float]]:
        rows = _p95s(missing, first, live_from)
        return {mid: rows.get(mid, {}) for mid in missing}

    series = _with_cache(ids, f"p95-settled:{hours}:{first:%Y%m%d%H}", settled)
    for mid, p95s in _p95s(ids, max(first, live_from), this_hour + HOUR).items():
        series[mid] = {**series[mid], **p95s}
    return series


def _with_cache(ids: list[int], prefix: str, compute: Callable[[list[int]], dict[int, Any]]) -> dict[int, Any]:
    keys = {mid: f"{prefix}:{mid}" for mid in ids}
    found = cache.get_many(list(keys.values()))
    series = {mid: found[key] for mid, key in keys.items() if key in found}
    missing = [mid for mid in ids if mid not in series]
    if missing:
        fresh = compute(missing)
        cache.set_many({keys[mid]: value for mid, value in fresh.items()}, timeout=SETTLED_TTL)
        series |= fresh
    return series


def _daily(ids: Iterable[int], start: datetime, end: datetime) -> dict[int, list[Day]]:
    out: dict[int, list[Day]] = defaultdict(list)
    rows = Rollup.objects.filter(
        monitor_id__in=ids, period=Rollup.Period.DAY, start__gte=start, start__lt=end
    ).order_by("start")
    for mid, at, n, f in rows.values_list("monitor_id", "start", "probes", "failures"):
        out[mid].append((day_start(at), n, f))
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
