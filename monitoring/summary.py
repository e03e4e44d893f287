"""The consultant's overview at a glance: what is down right now, and one line per client, from a few
aggregate queries whatever the number of monitors or the length of their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q, QuerySet, Sum

from launchready.models import Client
from monitoring.models import Incident, Monitor, Rollup

DOWN_LIST_LIMIT = 200


@dataclass
class ClientSummary:
    client: Client
    routes: int
    down: int
    paused: int
    uptime_30d: float | None
    open_incidents: int
    last_checked_at: datetime | None


def down_now(monitors: QuerySet[Monitor]) -> list[Monitor]:
    """Every active monitor that is down, oldest outage first (bounded, so one bad night cannot stall the page)."""
    return list(
        monitors.filter(paused=False, state=Monitor.State.DOWN)
        .select_related("client", "route__domain")
        .order_by("client__name", "url")[:DOWN_LIST_LIMIT]
    )


def client_summaries(monitors: QuerySet[Monitor], now: datetime) -> list[ClientSummary]:
    """One line per client with monitors: the ones with a route down first, then by name."""
    counts = {
        row["client_id"]: row
        for row in monitors.values("client_id").annotate(
            routes=Count("id"),
            down=Count("id", filter=Q(state=Monitor.State.DOWN, paused=False)),
            paused=Count("id", filter=Q(paused=True)),
            last=Max("last_checked_at"),
        )
    }
    uptime = {
        row["monitor__client_id"]: row
        for row in Rollup.objects.filter(
            monitor__in=monitors, period=Rollup.Period.DAY, start__gte=now - timedelta(days=30)
        )
        .values("monitor__client_id")
        .annotate(n=Sum("probes"), f=Sum("failures"))
    }
    incidents = dict(
        Incident.objects.filter(monitor__in=monitors, ended_at__isnull=True)
        .values("monitor__client_id")
        .annotate(n=Count("id"))
        .values_list("monitor__client_id", "n")
    )
    rows = []
    for client in Client.objects.filter(id__in=counts).only("id", "code", "name", "workspace_id"):
        c, u = counts[client.id], uptime.get(client.id)
        n = (u or {}).get("n") or 0
        rows.append(
            ClientSummary(
                client,
                c["routes"],
                c["down"],
                c["paused"],
                100 * (n - u["f"]) / n if u and n else None,
                incidents.get(client.id, 0),
                c["last"],
            )
        )
    rows.sort(key=lambda r: (-r.down, -r.open_incidents, r.client.name.lower()))
    return rows
