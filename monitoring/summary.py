"""The consultant's overview at a glance: what is down right now, and one line per client from its status
row and its monitors' rows, in a few queries whatever the number of clients or monitors, the length of their
history or the time of day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Lower

from launchready.formatting import Observed, uptime_text
from launchready.models import Client
from monitoring import tallies
from monitoring.alerts import unreachable_clients
from monitoring.client_status import Trouble, troubles
from monitoring.models import Monitor, Rollup
from monitoring.rollup import day_start, observed

DOWN_LIST_LIMIT = 200
# What the list of routes down shows of each: its state, cause and last check, its client, its route's address.
DOWN_FIELDS = (
    *("id", "code", "paused", "state", "last_cause", "last_error", "last_checked_at", "url"),
    *("client__id", "client__code", "client__name", "client__workspace_id"),
    *("route__id", "route__host", "route__path", "route__domain__id", "route__domain__name"),
    "route__domain__canonical_host",
)
OVERVIEW_PAGE_SIZE = 50
UPTIME_DAYS = 30
SETTLED_TTL = 26 * 3600  # a settled sum is asked for under its day's key until the next day
SETTLED_UNTIL = "uptime-settled-until"


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
    troubles: list[Trouble] = field(default_factory=list)  # routes down, jobs late or failed, journeys failing

    @property
    def uptime_text(self) -> str:
        return uptime_text(self.uptime, f"last {UPTIME_DAYS} days") if self.uptime else "—"


def down_now(monitors: QuerySet[Monitor]) -> list[Monitor]:
    """Every active monitor that is down, oldest outage first (bounded, so one bad night cannot stall the page)."""
    return list(
        monitors.filter(paused=False, state=Monitor.State.DOWN)
        .select_related("client", "route__domain")
        .only(*DOWN_FIELDS)
        .order_by("client__name", "url")[:DOWN_LIST_LIMIT]
    )


def client_summaries(
    clients: QuerySet[Client], now: datetime, page: str | int | None = 1
) -> tuple[list[ClientSummary], Page[Client]]:
    """One line per client with monitors, heartbeats or enabled journeys: the ones with the most down or failing
    (routes down, jobs late or failed, journeys failing) first, then those with an incident still open, then by
    name. A page of them (and the page, for its links), ordered and counted in the database from the clients'
    status rows (launchready/status.py), so the page's cost stays the same whatever the number of clients,
    monitors, heartbeats and journeys."""
    latest_check = Monitor.objects.filter(client=OuterRef("pk")).order_by(F("last_checked_at").desc(nulls_last=True))
    failing = (
        F("status__active_down")
        + F("status__heartbeats_late")
        + F("status__heartbeats_failed")
        + F("status__journeys_failing")
    )
    ordered = (
        clients.filter(Q(status__monitors__gt=0) | Q(status__heartbeats__gt=0) | Q(status__journeys__gt=0))
        .select_related("status")
        .only("id", "code", "name", "workspace_id", "status")
        .annotate(last_checked_at=Subquery(latest_check.values("last_checked_at")[:1]))  # for the page's rows only
        .order_by(failing.desc(), "-status__open_incidents", Lower("name"), "id")
    )
    shown: Page[Any] = Paginator(ordered, OVERVIEW_PAGE_SIZE).get_page(page)
    ids = [c.id for c in shown]
    uptime = uptime_totals(ids, now)
    unreachable = unreachable_clients(list(shown))
    rows = []
    for client in shown:
        status = client.status
        rows.append(
            ClientSummary(
                client,
                status.monitors,
                status.active_down,
                status.paused,
                uptime.get(client.id),
                status.open_incidents,
                client.last_checked_at,
                client.id in unreachable,
                troubles(status),
            )
        )
    return rows, shown


def uptime_totals(client_ids: list[int], now: datetime, days: int = UPTIME_DAYS) -> dict[int, Observed]:
    """Uptime of each client's monitors over the last `days` days, today included, and the time it was
    observed over (see monitoring.rollup.observed).

    The rollup task rebuilds only today's and yesterday's daily rollups, so the days before are settled: their
    sums are cached per client under the window's first day. The two live days come from each monitor's
    tallies (monitoring/tallies.py), the probes counted as they are recorded: an outage of the last minute is
    in the figure at once, and the page reads one row of numbers per monitor whatever the time of day.
    """
    first = day_start(now) - timedelta(days=days - 1)
    settled = _settled_sums(client_ids, now, days)
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


def _settled_sums(client_ids: list[int], now: datetime, days: int) -> dict[int, dict[int, tuple[int, int, int]]]:
    """Probes, failures and interval of each monitor over the settled days of the window (those before
    yesterday), by client: from the cache, or summed from the daily rollups and kept for the day."""
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
    return settled


def settle(now: datetime, batch: int = 200) -> int:
    """Sum the settled days of every monitored client's window into the cache once the day has turned: called
    by the rollup task, so that the overview's first visit of the day reads no rollup. Returns the clients."""
    first = day_start(now) - timedelta(days=UPTIME_DAYS - 1)
    if cache.get(SETTLED_UNTIL) == first:
        return 0
    ids = list(Monitor.objects.order_by("client_id").values_list("client_id", flat=True).distinct())
    for i in range(0, len(ids), batch):
        _settled_sums(ids[i : i + batch], now, UPTIME_DAYS)
    cache.set(SETTLED_UNTIL, first, timeout=SETTLED_TTL)
    return len(ids)


def _live_sums(client_ids: list[int], first: datetime, now: datetime) -> dict[int, dict[int, tuple[int, int, int]]]:
    """Probes, failures and probe interval of each monitor today and yesterday (those of them from `first` on),
    by client, summed from the monitors' tallies in the database."""
    probes, failures = tallies.live_expressions(day_start(now).date(), first.date())
    rows = (
        Monitor.objects.filter(client_id__in=client_ids)
        .annotate(n=probes, f=failures)
        .filter(n__gt=0)
        .values_list("client_id", "id", "interval", "n", "f")
    )
    out: dict[int, dict[int, tuple[int, int, int]]] = {}
    for cid, mid, interval, n, f in rows:
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
