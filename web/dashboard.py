"""The dashboard's rows: the workspace's clients by sprint deadline, with their launch verdict and reach."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce

from audits.findings import LaunchVerdict
from audits.models import AuditRun
from audits.risk import latest_scans
from launchready.models import Client, Domain, Route, Sprint


@dataclass
class ClientRow:
    client: Client
    sprint: Sprint | None
    go: bool | None = None  # None: never audited
    blockers: int = 0
    verdict: str = ""  # go, no_go, unchecked; empty: never audited
    auditing: bool = False  # an audit of one of its domains is queued or running
    no_channel: bool = False  # its outages would reach nobody


def soonest_deadline_first(clients: QuerySet[Client]) -> QuerySet[Client]:
    """Clients in a sprint by its deadline, the soonest first, then the others by name; ordered in the
    database, and counted by subqueries that run only for the rows of the page asked for, so that a page
    of them costs the same whatever their number."""
    first_open = Sprint.objects.current().filter(client=OuterRef("pk")).order_by("started_at")
    domains = Domain.objects.filter(client=OuterRef("pk")).order_by().values("client")
    routes = Route.objects.filter(domain__client=OuterRef("pk")).order_by().values("domain__client")
    return clients.annotate(
        deadline=Subquery(first_open.values("deadline")[:1]),
        domain_count=Coalesce(Subquery(domains.annotate(n=Count("id")).values("n")), 0),
        route_count=Coalesce(Subquery(routes.annotate(n=Count("id")).values("n")), 0),
    ).order_by(F("deadline").asc(nulls_last=True), "name", "id")


def dashboard_rows(clients: Iterable[Client]) -> list[ClientRow]:
    """One row per client with its open sprint, in the order given."""
    clients = list(clients)
    prefetch_related_objects(
        clients,
        Prefetch("sprints", queryset=Sprint.objects.current().order_by("started_at"), to_attr="open_sprints"),
    )
    return [ClientRow(c, c.open_sprints[0] if c.open_sprints else None) for c in clients]  # type: ignore[attr-defined]


def client_verdicts(client_ids: list[int]) -> dict[int, tuple[str, int, bool]]:
    """The launch verdict (go, no_go, unchecked; empty: never audited) and open blockers per client, from
    the latest finished run of each of its domains, and whether an audit is under way (one query): a
    blocker anywhere (the latest repository scan's included) is no-go, a run that could not check keeps the
    others from saying go; two queries."""
    latest = AuditRun.objects.finished().filter(domain=OuterRef("pk")).order_by("-created")
    rows = Domain.objects.filter(client_id__in=client_ids).annotate(
        counts=Subquery(latest.values("counts")[:1]),
        verdict=Subquery(latest.values("verdict")[:1]),
        busy=Exists(AuditRun.objects.active().filter(domain=OuterRef("pk"))),
    )
    blockers: dict[int, int] = {}
    unchecked: set[int] = set()
    auditing: set[int] = set()
    for client_id, counts, verdict, busy in rows.values_list("client_id", "counts", "verdict", "busy"):
        if busy:
            auditing.add(client_id)
        if counts is None:  # never audited
            continue
        blockers[client_id] = blockers.get(client_id, 0) + int(counts.get("blocker", 0))
        if verdict in (LaunchVerdict.UNCHECKED, ""):  # "": a run cut short before it could judge
            unchecked.add(client_id)
    for client_id, scan in latest_scans(client_ids).items():  # its findings are on the risk list too
        blockers[client_id] = blockers.get(client_id, 0) + int(scan.counts.get("blocker", 0))
    verdicts = {cid: (LaunchVerdict.of(n, cid in unchecked).value, n, cid in auditing) for cid, n in blockers.items()}
    return {cid: ("", 0, True) for cid in auditing} | verdicts
