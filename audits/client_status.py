"""The audits' part of each client's status row (launchready/status.py): the launch verdict of the latest
finished run of each of its domains, of its latest repository scan, its latest real send and its journeys' latest
runs, its open blockers, and whether an audit is under way. Refreshed whenever one of those changes: a run is
queued, saved or ended, a scan finishes, a real send is judged, a journey's finding opens, closes or goes, a
domain is deleted (audits/apps.py connects the signals; the lifecycle calls `refresh` where it updates rows
without saving them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Subquery

from audits.findings import LaunchVerdict, Severity
from audits.models import OPEN, AuditRun, JourneyFinding, SendFinding
from audits.risk import latest_scans, latest_sends
from launchready import status
from launchready.models import Domain

FIELDS = ("verdict", "blockers", "auditing")


def client_verdicts(client_ids: list[int]) -> dict[int, tuple[str, int, bool]]:
    """The launch verdict (go, no_go, unchecked; empty: never audited) and open blockers per client, from the
    latest finished run of each of its domains, and whether an audit is under way: a blocker anywhere (the
    latest repository scan's, the latest real send's and a failing sign-in journey's included) is no-go, a run that
    could not check keeps the others from saying go; five queries."""
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
    sends = latest_sends(client_ids)  # so are the latest real send's
    for client_id in sends:
        blockers.setdefault(client_id, 0)
    send_blockers = SendFinding.objects.filter(message_id__in=sends.values(), severity=Severity.BLOCKER)
    for client_id in send_blockers.filter(OPEN).values_list("message__address__client_id", flat=True):
        blockers[client_id] += 1
    journey_blockers = JourneyFinding.objects.filter(client_id__in=client_ids, severity=Severity.BLOCKER)
    for client_id in journey_blockers.filter(OPEN).values_list("client_id", flat=True):  # customers cannot sign in
        blockers[client_id] = blockers.get(client_id, 0) + 1
    verdicts = {cid: (LaunchVerdict.of(n, cid in unchecked).value, n, cid in auditing) for cid, n in blockers.items()}
    return {cid: ("", 0, True) for cid in auditing} | verdicts


def _compute(client_ids: list[int]) -> dict[int, dict[str, Any]]:
    return {
        cid: {"verdict": verdict, "blockers": blockers, "auditing": auditing}
        for cid, (verdict, blockers, auditing) in client_verdicts(client_ids).items()
    }


def refresh(client_ids: Iterable[int]) -> None:
    """Recompute the audits' part of these clients' status rows from their runs and scans."""
    status.refresh(client_ids, FIELDS, _compute)


def refresh_for_domains(domain_ids: Iterable[int]) -> None:
    refresh(Domain.objects.filter(id__in=list(domain_ids)).values_list("client_id", flat=True).distinct())
