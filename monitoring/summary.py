"""The consultant's overview at a glance: what is down right now, and one line per client, from a few
aggregate queries whatever the number of monitors or the length of their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, Q, QuerySet, Sum

from launchready.formatting import Observed, uptime_text
from launchready.models import Client
from monitoring import tallies
from monitoring.alerts import unreachable_clients
from monitoring.models import Incident, Monitor, Rollup
from monitoring.rollup import day_start, observed

DOWN_LIST_LIMIT = 200
OVERVIEW_PAGE_SIZE = 50
UPTIME_DAYS = 30
SETTLED_TTL = 26 * 3600  # a settled sum is asked for under its day's key until the next day


@dataclass
class ClientSummary:
    client: Client
    routes: int
    down: int
    paused: int
    uptime: Observed | None
    open_incidents: int
    last_checked_at: datetime | None
    no_channel: bool = False  # its outages would reach nobody

    @property
    def uptime_text(self) -> str:
        return uptime_text(self.uptime, f"last {UPTIME_DAYS} days") if self.uptime else "—"


def down_now(monitors: QuerySet[Monitor]) -> list[Monitor]:
    """Every active monitor that is down, oldest outage first (bounded, so one bad night cannot stall the page)."""
    return list(
        monitors.filter(paused=False, state=Monitor.State.DOWN)
        .select_related("client", "route__domain")
        .order_by("client__name", "url")[:DOWN_LIST_LIMIT]
    )


def client_summaries(
    monitors: QuerySet[Monitor], now: datetime, page: str | int | None = 1
) -> tuple[list[ClientSummary], Page[Client]]:
    """One line per client with monitors: the ones with a route down first, then by name. A page of them
    (and the page, for its links), so the page's cost stays the same whatever the number of clients."""
    counts = {
        row["client_id"]: row
        for row in monitors.values("client_id").annotate(
            routes=Count("id"),
            down=Count("id", filter=Q(state=Monitor.State.DOWN, paused=False)),
            paused=Count("id", filter=Q(paused=True)),
            last=Max("last_checked_at"),
        )
    }
    incidents = dict(
        Incident.objects.filter(monitor__in=monitors, ended_at__isnull=True)
        .values("monitor__client_id")
        .annotate(n=Count("id"))
        .values_list("monitor__client_id", "n")
    )
    clients = list(Client.objects.filter(id__in=counts).only("id", "code", "name", "workspace_id"))
    clients.sort(key=lambda c: (-counts[c.id]["down"], -incidents.get(c.id, 0), c.name.lower()))
    shown = Paginator(clients, OVERVIEW_PAGE_SIZE).get_page(page)
    uptime = uptime_totals([c.id for c in shown], now)
    unreachable = unreachable_clients(list(shown))
    rows = []
    for client in shown:
        c = counts[client.id]
        rows.append(
            ClientSummary(
                client,
                c["routes"],
                c["down"],
                c["paused"],
                uptime.get(client.id),
                incidents.get(client.id, 0),
                c["last"],
                client.id in unreachable,
            )
        )
    return rows, shown


def uptime_totals(client_ids: list[int], now: datetime, days: int = UPTIME_DAYS) -> dict[int, Observed]:
    """Uptime of each client's monitors over the last `days` days, today included, and the time it was
    observed over (see monitoring.rollup.observed).

    The rollup task rebuilds only today's and yesterday's daily rollups, so the days before are settled: their
    sums are cached per client under the window's first day. The two live days come from each monitor's
    tallies (monitoring/tallies.py), the probes counted as they are recorded: an outage of the last minute is
    in the figure at once, and the page reads one row per monitor whatever the time of day.
    """
    first = day_start(now) - timedelta(days=days - 1)
    live_from = day_start(now) - timedelta(days=1)
    keys = {cid: f"uptime-settled:v2:{cid}:{days}:{first:%Y%m%d}" for cid in client_ids}
    cached = cache.get_many(list(keys.values()))
    settled: dict[int, dict[int, tuple[int, int, int]]] = {
        cid: cached[key] for cid, key in keys.items() if key in cached
    }
    missing = [cid for cid in client_ids if cid not in settled]
    if missing:
        fresh: dict[int, dict[int, tuple[int, int, int]]] = {cid: {} for cid in missing}
        fresh |= _sums(Rollup.objects.filter(monitor__client_id__in=missing, start__gte=first, start__lt=live_from))
        cache.set_many({keys[cid]: fresh[cid] for cid in missing}, timeout=SETTLED_TTL)
        settled |= fresh
    live = _live_sums(client_ids, first, now)
    totals = {}
    for cid in client_ids:
        per_monitor: dict[int, list[int]] = {}
        for part in (settled[cid], live.get(cid, {})):
            for mid, (n, f, interval) in part.items():
                acc = per_monitor.setdefault(mid, [0, 0, interval])
                acc[0], acc[1], acc[2] = acc[0] + n, acc[1] + f, interval
        seen = observed(((n, f, i) for n, f, i in per_monitor.values()), now - first)
        if seen.probes:
            totals[cid] = seen
    return totals


def _live_sums(client_ids: list[int], first: datetime, now: datetime) -> dict[int, dict[int, tuple[int, int, int]]]:
    """Probes, failures and probe interval of each monitor today and yesterday (those of them from `first` on),
    by client, from the monitors' tallies."""
    today, since = day_start(now).date(), first.date()
    rows = Monitor.objects.filter(client_id__in=client_ids).values_list("id", "client_id", "interval", *tallies.FIELDS)
    out: dict[int, dict[int, tuple[int, int, int]]] = {}
    for mid, cid, interval, day, probes, failures, prev_probes, prev_failures in rows:
        counted = tallies.live_days(day, probes, failures, prev_probes, prev_failures, today)
        days = [c for at, c in counted.items() if at >= since]
        n, f = sum(c[0] for c in days), sum(c[1] for c in days)
        if n:
            out.setdefault(cid, {})[mid] = (n, f, interval)
    return out


def _sums(rollups: QuerySet[Rollup]) -> dict[int, dict[int, tuple[int, int, int]]]:
    """Probes, failures and probe interval of each monitor, by client."""
    rows = (
        rollups.filter(period=Rollup.Period.DAY)
        .values("monitor__client_id", "monitor_id", "monitor__interval")
        .annotate(n=Sum("probes"), f=Sum("failures"))
        .values_list("monitor__client_id", "monitor_id", "monitor__interval", "n", "f")
    )
    out: dict[int, dict[int, tuple[int, int, int]]] = {}
    for cid, mid, interval, n, f in rows:
        out.setdefault(cid, {})[mid] = (n or 0, f or 0, interval)
    return out
