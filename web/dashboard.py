"""The dashboard's rows: the workspace's clients by sprint deadline, with their launch verdict and what is down
or failing (routes, jobs, journeys), from each client's status row (launchready/status.py), and reach."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, F, OuterRef, Prefetch, QuerySet, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce

from audits.findings import LaunchVerdict
from launchready.models import Client, Domain, Route, Sprint
from launchready.status import status_of
from monitoring.client_status import Trouble, troubles, watched


@dataclass
class ClientRow:
    client: Client
    sprint: Sprint | None
    go: bool | None = None  # None: never audited
    blockers: int = 0
    verdict: str = ""  # go, no_go, unchecked; empty: never audited
    auditing: bool = False  # an audit of one of its domains is queued or running
    no_channel: bool = False  # its outages would reach nobody
    watched: bool = False  # a monitor, a heartbeat or an enabled journey
    troubles: list[Trouble] = field(default_factory=list)  # routes down, jobs late or failed, journeys failing


def soonest_deadline_first(clients: QuerySet[Client]) -> QuerySet[Client]:
    """Clients in a sprint by its deadline, the soonest first, then the others by name; ordered in the
    database by the deadline kept in each client's status row, and counted by subqueries that run only for the
    rows of the page asked for, so that a page of them costs the same whatever their number."""
    domains = Domain.objects.filter(client=OuterRef("pk")).order_by().values("client")
    routes = Route.objects.filter(domain__client=OuterRef("pk")).order_by().values("domain__client")
    return (
        clients.select_related("status")
        .annotate(
            domain_count=Coalesce(Subquery(domains.annotate(n=Count("id")).values("n")), 0),
            route_count=Coalesce(Subquery(routes.annotate(n=Count("id")).values("n")), 0),
        )
        # The first open sprint's deadline, kept in each client's status row (launchready/status.py).
        .order_by(F("status__sprint_deadline").asc(nulls_last=True), "name", "id")
    )


def dashboard_rows(clients: Iterable[Client]) -> list[ClientRow]:
    """One row per client with its open sprint and its status row's verdict, in the order given."""
    clients = list(clients)
    prefetch_related_objects(
        clients,
        Prefetch("sprints", queryset=Sprint.objects.current().order_by("started_at"), to_attr="open_sprints"),
    )
    rows = []
    for client in clients:
        status = status_of(client)
        rows.append(
            ClientRow(
                client,
                client.open_sprints[0] if client.open_sprints else None,  # type: ignore[attr-defined]
                go=None if not status.verdict else status.verdict == LaunchVerdict.GO,
                blockers=status.blockers,
                verdict=status.verdict,
                auditing=status.auditing,
                watched=watched(status),
                troubles=troubles(status),
            )
        )
    return rows
