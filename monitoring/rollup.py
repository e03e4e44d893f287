"""Hourly and daily rollups from raw probes, uptime and percentiles over any window from them, the
pruning that keeps storage per route bounded, and the record of time the scheduler was away."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    Case,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    JSONField,
    Max,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from launchready.formatting import Observed
from monitoring import histogram
from monitoring.models import Monitor, Probe, Rollup, SchedulerGap

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
GAP_AFTER = timedelta(seconds=60)  # a scheduler silent this long was away: that time is unknown
LAST_TICK_KEY = "monitoring:last-tick"


def raw_retention() -> timedelta:
    return timedelta(hours=getattr(settings, "MONITORING_RAW_RETENTION_HOURS", 48))


def hour_start(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def day_start(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def note_tick(now: datetime) -> SchedulerGap | None:
    """Called by every tick: a long silence since the last one is recorded as a gap (unknown, not up).
    The last tick's time lives in the cache; when the cache lost it (Redis restarted empty), the latest
    probe stands in, so a scheduler that stopped with Redis is still seen to have been away."""
    previous = cache.get(LAST_TICK_KEY)
    cache.set(LAST_TICK_KEY, now.timestamp(), timeout=None)
    if previous is not None:
        last = datetime.fromtimestamp(previous, tz=now.tzinfo)
    else:
        latest = Probe.objects.filter(at__lt=now).order_by("-at").values_list("at", flat=True).first()
        if latest is None:
            return None
        last = max(latest, SchedulerGap.objects.aggregate(end=Max("end"))["end"] or latest)
    if now - last > GAP_AFTER:
        return SchedulerGap.objects.create(start=last, end=now)
    return None


def _unknown_seconds(start: datetime, end: datetime) -> int:
    total = 0.0
    for gap in SchedulerGap.objects.filter(start__lt=end, end__gt=start):
        total += (min(gap.end, end) - max(gap.start, start)).total_seconds()
    return int(total)


@transaction.atomic
def rollup_hour(start: datetime) -> int:
    """(Re)build the hourly rollups of one hour from its raw probes; idempotent. Returns rollups written."""
    start = hour_start(start)
    end = start + HOUR
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    hist: dict[int, list[int]] = defaultdict(histogram.empty)
    rows = Probe.objects.filter(at__gte=start, at__lt=end).values_list("monitor_id", "ok", "latency_ms")
    for monitor_id, ok, latency in rows.iterator(chunk_size=20000):
        counts[monitor_id][0] += 1
        if not ok:
            counts[monitor_id][1] += 1
        if ok and latency is not None:
            histogram.add(hist[monitor_id], latency)
    unknown = _unknown_seconds(start, end)
    Rollup.objects.filter(period=Rollup.Period.HOUR, start=start).delete()
    Rollup.objects.bulk_create(
        [
            Rollup(
                monitor_id=mid,
                period=Rollup.Period.HOUR,
                start=start,
                probes=n,
                failures=f,
                unknown_seconds=unknown,
                histogram=hist[mid],
            )
            for mid, (n, f) in counts.items()
        ]
    )
    return len(counts)


@transaction.atomic
def rollup_day(day: datetime) -> int:
    """(Re)build the daily rollups of one day by merging its hourly rollups."""
    start = day_start(day)
    hours = Rollup.objects.filter(period=Rollup.Period.HOUR, start__gte=start, start__lt=start + DAY)
    merged: dict[int, list[object]] = {}
    for row in hours.values_list("monitor_id", "probes", "failures", "unknown_seconds", "histogram"):
        mid, n, f, unknown, hist = row
        acc = merged.setdefault(mid, [0, 0, 0, histogram.empty()])
        acc[0] += n  # type: ignore[operator]
        acc[1] += f  # type: ignore[operator]
        acc[2] += unknown  # type: ignore[operator]
        acc[3] = histogram.merge([acc[3], hist])  # type: ignore[list-item]
    Rollup.objects.filter(period=Rollup.Period.DAY, start=start).delete()
    Rollup.objects.bulk_create(
        [
            Rollup(
                monitor_id=mid,
                period=Rollup.Period.DAY,
                start=start,
                probes=n,
                failures=f,  # type: ignore[misc]
                unknown_seconds=unknown,
                histogram=hist,
            )
            for mid, (n, f, unknown, hist) in merged.items()
        ]
    )
    return len(merged)


def prune(now: datetime | None = None) -> dict[str, int]:
    """Keep storage per route bounded: raw probes for the retention window, hourly rollups 35 days,
    daily rollups 400 days."""
    now = now or timezone.now()
    raw, _ = Probe.objects.filter(at__lt=now - raw_retention()).delete()
    hourly, _ = Rollup.objects.filter(period=Rollup.Period.HOUR, start__lt=now - timedelta(days=35)).delete()
    daily, _ = Rollup.objects.filter(period=Rollup.Period.DAY, start__lt=now - timedelta(days=400)).delete()
    gaps, _ = SchedulerGap.objects.filter(end__lt=now - timedelta(days=400)).delete()
    return {"probes": raw, "hourly": hourly, "daily": daily, "gaps": gaps}


@dataclass
class Window:
    probes: int
    failures: int
    unknown_seconds: int
    histogram: list[int]

    @property
    def uptime(self) -> float | None:
        return None if not self.probes else 100.0 * (self.probes - self.failures) / self.probes

    def percentile(self, fraction: float) -> float | None:
        return histogram.percentile(self.histogram, fraction)


def observed(counts: Iterable[tuple[int, int, int]], length: timedelta) -> Observed:
    """Uptime and the time it was observed over, from each monitor's (probes, failures, interval) in a window of
    `length`. A probe stands for one interval watched, so time the monitoring was not running (before the first
    probe, or while the scheduler was away) counts as neither up nor down; the span is the longest-watched route's."""
    window_seconds = int(length.total_seconds())
    probes = failures = seconds = 0
    for n, f, interval in counts:
        probes, failures = probes + n, failures + f
        seconds = max(seconds, min(n * interval, window_seconds))
    return Observed(probes, failures, seconds, window_seconds)


def window(monitor: Monitor, start: datetime, end: datetime, now: datetime | None = None) -> Window:
    """Uptime and latency over any window: whole days from daily rollups, the rest from hourly ones, and what
    the rollups do not hold yet from the raw probes."""
    return windows([monitor.id], start, end, now)[monitor.id]


def rolled_up_until(monitor_ids: list[int], now: datetime | None = None) -> Coalesce:
    """Where the rollups of these monitors stop being complete, as an SQL expression: the start of their latest
    hourly rollup (the rollup task rebuilds the hour still going every few minutes, so that hour is partial),
    or, when none was built while the raw probes are kept, the oldest hour they are kept for. Everything from
    here on is read from the raw probes, so an outage of the last minutes counts as soon as it is probed."""
    now = now or timezone.now()
    kept_from = hour_start(now - raw_retention())
    latest = Rollup.objects.filter(monitor_id__in=monitor_ids, period=Rollup.Period.HOUR, start__gte=kept_from)
    return Coalesce(
        Subquery(latest.order_by("-start").values("start")[:1]), Value(kept_from), output_field=DateTimeField()
    )


def windows(monitor_ids: list[int], start: datetime, end: datetime, now: datetime | None = None) -> dict[int, Window]:
    """`window` for many monitors at once, in two queries whatever their number or history: the daily rollups
    of the window whose whole day is rolled up, then, together, the hourly rollups no daily one covers (the
    partial days at its edges, and whole days whose daily rollup is not complete yet) and the raw probes from
    where the rollups stop (see `rolled_up_until`). Each stretch of time is read from one source only."""
    rolled = rolled_up_until(monitor_ids, now)
    day_rolled = ExpressionWrapper(rolled - Value(DAY, output_field=DurationField()), output_field=DateTimeField())
    days: dict[int, list[tuple[int, int, int, list[int]]]] = defaultdict(list)
    covered: dict[int, set[datetime]] = defaultdict(set)
    for mid, begins, probes, failures, unknown, hist in (
        Rollup.objects.filter(monitor_id__in=monitor_ids, period=Rollup.Period.DAY, start__gte=start)
        .filter(start__lte=end - DAY)
        .filter(start__lte=day_rolled)  # a daily rollup counts once its whole day is rolled up
        .values_list("monitor_id", "start", "probes", "failures", "unknown_seconds", "histogram")
    ):
        days[mid].append((probes, failures, unknown, hist))
        covered[mid].add(begins)
    first_whole = day_start(start) if day_start(start) == start else day_start(start) + DAY
    last_whole = day_start(end)
    wanted = Q(start__gte=start, start__lt=min(first_whole, end)) | Q(start__gte=max(last_whole, start), start__lt=end)
    day = first_whole
    while day + DAY <= last_whole:
        missing = [mid for mid in monitor_ids if day not in covered[mid]]
        if missing:
            wanted |= Q(monitor_id__in=missing, start__gte=day, start__lt=day + DAY)
        day += DAY
    no_latency = Value(None, output_field=FloatField())
    hourly = (
        Rollup.objects.filter(monitor_id__in=monitor_ids, period=Rollup.Period.HOUR, start__lt=rolled)
        .filter(wanted)
        .annotate(latency=no_latency)
        .values_list("monitor_id", "start", "probes", "failures", "unknown_seconds", "histogram", "latency")
    )
    # The raw probes not rolled up yet, one row each, shaped like a rollup: no histogram, its latency instead.
    raw = (
        Probe.objects.filter(monitor_id__in=monitor_ids, at__gte=start, at__lt=end)
        .filter(at__gte=rolled)
        .annotate(
            n=Value(1, output_field=IntegerField()),
            f=Case(When(ok=False, then=Value(1)), default=Value(0), output_field=IntegerField()),
            u=Value(0, output_field=IntegerField()),
            h=Value(None, output_field=JSONField()),
            latency=Case(When(ok=True, then=F("latency_ms")), default=no_latency, output_field=FloatField()),
        )
        .values_list("monitor_id", "at", "n", "f", "u", "h", "latency")
    )
    hours: dict[int, list[tuple[int, int, int, list[int]]]] = defaultdict(list)
    live: dict[int, list[int]] = defaultdict(lambda: [0, 0, *histogram.empty()])
    for mid, begins, probes, failures, unknown, hist, latency in hourly.union(raw, all=True):
        if hist is None:
            acc = live[mid]
            acc[0], acc[1] = acc[0] + probes, acc[1] + failures
            if latency is not None:
                acc[2 + histogram.bucket_of(latency)] += 1
        elif day_start(begins) not in covered[mid]:
            hours[mid].append((probes, failures, unknown, hist))
    for mid, (n, f, *hist) in live.items():
        hours[mid].append((n, f, 0, hist))
    out: dict[int, Window] = {}
    for mid in monitor_ids:
        parts = days[mid] + hours[mid]
        out[mid] = Window(
            probes=sum(p[0] for p in parts),
            failures=sum(p[1] for p in parts),
            unknown_seconds=sum(p[2] for p in parts),
            histogram=histogram.merge(p[3] for p in parts),
        )
    return out
