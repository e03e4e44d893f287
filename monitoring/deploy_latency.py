"""A deploy's effect on latency: for each core route, the p95 of the 24 hours before the deploy against the
p95 of the hour after it, and whether the route got slower.

Core routes are the ones a customer waits on to get in, work and pay: login, dashboard, checkout, API health
and the sign-in callback (CORE_ROUTE_KINDS). The homepage (often served apart from the app), webhooks (called
by machines) and other routes are left out.

The figures come from the same latency buckets as every other p95 (monitoring/histogram.py): whole hours of a
window from their hourly rollups, the rest (the hours a window starts or ends in, and what is not rolled up
yet) from the raw probes. Raw probes are kept for MONITORING_RAW_RETENTION_HOURS (48 by default), so once the
hour after is over the rollup task stores the figures on the deploy (`settle`): the deploy page, the API and the
weekly report read the stored ones from then on, whatever the history. A deploy never stored whose raw probes
are gone says so rather than guess from hours that straddle it.

A route got slower when its p95 after is at least REGRESSION_RATIO times the one before (the weekly report's
trend ratio) and both figures rest on at least MIN_PROBES probes: with fewer than 20, a p95 is the slowest
probe, and one slow probe is not a regression."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db.models import F, FloatField, JSONField, Q, Value
from django.utils import timezone

from launchready.formatting import clock, latency
from launchready.models import Route
from monitoring import histogram
from monitoring.models import Deploy, Monitor, Probe, Rollup
from monitoring.rollup import HOUR, hour_start, raw_retention, rolled_up_until

CORE_ROUTE_KINDS = (
    Route.Kind.LOGIN,
    Route.Kind.DASHBOARD,
    Route.Kind.CHECKOUT,
    Route.Kind.API_HEALTH,
    Route.Kind.AUTH_CALLBACK,
)
BEFORE = timedelta(hours=24)
AFTER = timedelta(hours=1)
REGRESSION_RATIO = 1.2  # as reports/weekly.py TREND_RATIO: a p95 a fifth slower is a change, less is noise
MIN_PROBES = 20  # below this a p95 is the slowest probe
SETTLE_AFTER = timedelta(minutes=5)  # a probe of the hour's last minute is recorded by then

MEASURING = "measuring"
NO_PROBES = "no_probes"
TOO_FEW = "too_few"
NOT_KEPT = "not_kept"
SLOWER = "slower"
FASTER = "faster"
STEADY = "steady"


@dataclass(frozen=True)
class RouteLatency:
    """One core route around one deploy. `before_probes`/`after_probes` count the probes with a latency (the
    successful ones); `measuring_until` is set while the hour after is not over."""

    monitor_id: int
    kind: str
    label: str
    url: str
    before_p95: float | None
    before_probes: int
    after_p95: float | None
    after_probes: int
    measuring_until: datetime | None = None
    not_kept: bool = False

    @property
    def ratio(self) -> float | None:
        if self.state in (MEASURING, NOT_KEPT) or not self.before_p95 or self.after_p95 is None:
            return None
        return self.after_p95 / self.before_p95

    @property
    def state(self) -> str:
        if self.measuring_until is not None:
            return MEASURING
        if self.not_kept:
            return NOT_KEPT
        if not self.before_probes and not self.after_probes:
            return NO_PROBES
        if self.before_probes < MIN_PROBES or self.after_probes < MIN_PROBES:
            return TOO_FEW
        if self.before_p95 is None or self.after_p95 is None:  # not with probes counted; for the type checker
            return NO_PROBES
        if self.after_p95 >= self.before_p95 * REGRESSION_RATIO:
            return SLOWER
        if self.after_p95 * REGRESSION_RATIO <= self.before_p95:
            return FASTER
        return STEADY

    @property
    def regressed(self) -> bool:
        return self.state == SLOWER

    @property
    def figures(self) -> str:
        """'p95 120 ms before → 300 ms after'."""
        return f"p95 {latency(self.before_p95)} before → {latency(self.after_p95)} after"

    def words(self, tz: Any) -> str:
        """The route's line in plain English, times in the reader's time zone."""
        state = self.state
        if state == MEASURING and self.measuring_until is not None:
            before = f"p95 {latency(self.before_p95)} before; " if self.before_probes else ""
            return f"{before}measuring until {clock(self.measuring_until, tz)}"
        if state == NOT_KEPT:
            return "not measured: the probes of that hour are no longer kept"
        if state == NO_PROBES:
            return "no probes around the deploy"
        if state == TOO_FEW:
            fewest = min(self.before_probes, self.after_probes)
            when = "the hour after" if self.after_probes <= self.before_probes else "the day before"
            return f"too few probes to tell ({fewest} in {when}, {MIN_PROBES} needed)"
        ratio = self.ratio or 1.0
        change = {SLOWER: f", {ratio:.1f}× slower", FASTER: ", faster", STEADY: ", steady"}[state]
        return self.figures + change

    def as_json(self) -> dict[str, Any]:
        """The route's figures for the API: milliseconds, probe counts, the state and the words in UTC."""
        return {
            "route": self.label,
            "kind": self.kind,
            "url": self.url,
            "p95_before_ms": self.before_p95,
            "p95_after_ms": self.after_p95,
            "probes_before": self.before_probes,
            "probes_after": self.after_probes,
            "ratio": None if self.ratio is None else round(self.ratio, 2),
            "state": self.state,
            "slower": self.regressed,
            "measuring_until": self.measuring_until and self.measuring_until.isoformat(),
            "words": self.words(UTC) + (" UTC" if self.state == MEASURING else ""),
        }


def _stored(raw: dict[str, Any]) -> RouteLatency:
    return RouteLatency(
        monitor_id=int(raw["monitor_id"]),
        kind=str(raw["kind"]),
        label=str(raw["label"]),
        url=str(raw["url"]),
        before_p95=raw.get("before_p95"),
        before_probes=int(raw.get("before_probes", 0)),
        after_p95=raw.get("after_p95"),
        after_probes=int(raw.get("after_probes", 0)),
    )


def _order(monitor: Monitor) -> tuple[int, str]:
    return (CORE_ROUTE_KINDS.index(Route.Kind(monitor.route.kind)), monitor.url)


def measure(deploys: Sequence[Deploy], now: datetime | None = None) -> dict[int, list[RouteLatency]]:
    """The core routes' latency around each deploy, by deploy id: the stored figures where the rollup task
    stored them (no query), else measured now in two queries for all the deploys together (their clients' core
    monitors, then their rollups and probes; only the first for deploys whose raw probes are gone)."""
    now = now or timezone.now()
    out: dict[int, list[RouteLatency]] = {}
    pending = []
    for deploy in deploys:
        if deploy.latency is not None:
            out[deploy.id] = [_stored(r) for r in deploy.latency.get("routes", [])]
        else:
            pending.append(deploy)
    if not pending:
        return out
    monitors: dict[int, list[Monitor]] = defaultdict(list)
    for monitor in Monitor.objects.filter(
        client_id__in={d.client_id for d in pending}, route__kind__in=CORE_ROUTE_KINDS
    ).select_related("route__domain"):
        monitors[monitor.client_id].append(monitor)
    for ms in monitors.values():
        ms.sort(key=_order)
    kept_from = now - raw_retention()
    samples = _samples([d for d in pending if d.created >= kept_from], monitors, now)  # the others are not kept
    for deploy in pending:
        end = deploy.created + AFTER
        over = now >= end
        rows = []
        for monitor in monitors.get(deploy.client_id, []):
            before, after = samples.get((deploy.id, monitor.id), (histogram.empty(), histogram.empty()))
            rows.append(
                RouteLatency(
                    monitor_id=monitor.id,
                    kind=monitor.route.kind,
                    label=monitor.route.get_kind_display(),
                    url=monitor.route.display_url,
                    before_p95=histogram.percentile(before, 0.95),
                    before_probes=sum(before),
                    after_p95=histogram.percentile(after, 0.95) if over else None,
                    after_probes=sum(after),
                    measuring_until=None if over else end,
                    # never stored, and the raw probes of the hours it straddles may be gone: a figure would be a guess
                    not_kept=over and deploy.created < kept_from,
                )
            )
        out[deploy.id] = rows
    return out


def _samples(
    deploys: Sequence[Deploy], monitors: dict[int, list[Monitor]], now: datetime
) -> dict[tuple[int, int], tuple[list[int], list[int]]]:
    """(before, after) latency histograms per (deploy, monitor), in one query: the hourly rollups of the hours
    that lie wholly inside a window and are rolled up, and the raw probes of the rest."""
    ids = sorted({m.id for ms in monitors.values() for m in ms})
    if not ids:
        return {}
    rolled = rolled_up_until(ids, now)
    hours_q = Q()
    raw_q = Q()
    for deploy in deploys:
        mids = [m.id for m in monitors.get(deploy.client_id, [])]
        if not mids:
            continue
        d = deploy.created
        start, end = d - BEFORE, d + AFTER
        hours_q |= Q(monitor_id__in=mids, start__gte=start, start__lt=end)
        # The hours the windows start, split and end in are read from the raw probes whatever the rollups.
        edges = Q()
        for edge in (start, d, end):
            first = hour_start(edge)
            if first != edge:
                edges |= Q(at__gte=max(first, start), at__lt=min(first + HOUR, end))
        raw_q |= Q(monitor_id__in=mids, at__gte=start, at__lt=end) & (edges | Q(at__gte=rolled))
    if not raw_q:
        return {}
    no_latency = Value(None, output_field=FloatField())
    hourly = (
        Rollup.objects.filter(hours_q, period=Rollup.Period.HOUR, start__lt=rolled)
        .annotate(latency=no_latency, until=rolled.copy())
        .values_list("monitor_id", "start", "histogram", "latency", "until")
    )
    raw = (
        Probe.objects.filter(raw_q, ok=True, latency_ms__isnull=False)
        .annotate(h=Value(None, output_field=JSONField()), until=rolled.copy(), latency=F("latency_ms"))
        .values_list("monitor_id", "at", "h", "latency", "until")
    )
    Row = tuple[datetime, list[int] | None, float | None, datetime]
    by_monitor: dict[int, list[Row]] = defaultdict(list)
    for mid, at, hist, value, boundary in hourly.union(raw, all=True):
        by_monitor[mid].append((at, hist, value, boundary))
    times: dict[int, list[datetime]] = {}
    for mid, rows in by_monitor.items():
        rows.sort(key=lambda row: row[0])
        times[mid] = [row[0] for row in rows]
    out: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
    for deploy in deploys:
        d = deploy.created
        windows = ((d - BEFORE, d), (d, d + AFTER))
        for monitor in monitors.get(deploy.client_id, []):
            hists = (histogram.empty(), histogram.empty())
            rows, at_times = by_monitor.get(monitor.id, []), times.get(monitor.id, [])
            # Only this deploy's stretch of the monitor's rows, however many deploys were read together.
            lo, hi = bisect.bisect_left(at_times, d - BEFORE), bisect.bisect_left(at_times, d + AFTER)
            for at, hist, value, boundary in rows[lo:hi]:
                hour = hour_start(at)
                for (start, end), acc in zip(windows, hists, strict=True):
                    whole = start <= hour and hour + HOUR <= end and hour < boundary
                    if hist is not None:
                        if whole:
                            for i, n in enumerate(hist[: histogram.BUCKETS]):
                                acc[i] += n
                    elif value is not None and start <= at < end and not whole:
                        histogram.add(acc, value)
            out[(deploy.id, monitor.id)] = hists
    return out


def settle(now: datetime | None = None) -> int:
    """Store the figures of every deploy whose hour after is over and whose raw probes are still kept, so that
    they stay true once the raw probes are pruned. Returns the deploys stored."""
    now = now or timezone.now()
    deploys = list(
        Deploy.objects.filter(
            latency__isnull=True,
            created__lte=now - AFTER - SETTLE_AFTER,
            created__gte=now - raw_retention(),
        ).order_by("created")[:500]
    )
    if not deploys:
        return 0
    measured = measure(deploys, now)
    for deploy in deploys:
        deploy.latency = {"routes": [_storable(r) for r in measured.get(deploy.id, [])]}
    Deploy.objects.bulk_update(deploys, ["latency"])
    return len(deploys)


def _storable(route: RouteLatency) -> dict[str, Any]:
    data = asdict(route)
    data.pop("measuring_until")
    data.pop("not_kept")
    return data


def regressions(routes: Iterable[RouteLatency]) -> list[RouteLatency]:
    return [r for r in routes if r.regressed]


def regression_words(routes: Iterable[RouteLatency]) -> str:
    """The routes that got slower after a deploy, in a sentence: "p95 of /api up from 180 ms to 640 ms after
    this deploy", the slowest first, then how many more; "" when none did."""
    slower = sorted(regressions(routes), key=lambda r: (-(r.ratio or 0.0), r.url))
    if not slower:
        return ""
    worst = slower[0]
    words = (
        f"p95 of {urlsplit(worst.url).path or '/'} up from {latency(worst.before_p95)} "
        f"to {latency(worst.after_p95)} after this deploy"
    )
    if len(slower) > 1:
        others = len(slower) - 1
        words += f", and {others} more route{'' if others == 1 else 's'} slower"
    return words
