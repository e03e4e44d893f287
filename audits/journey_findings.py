"""A journey's latest run as a finding on the client's risk list: the monitoring runs the journeys (on its
schedule, on "run now" and in a deploy's smoke test) and the web app hands each recorded run's outcome here.
A failing run of a sign-in journey is a blocker (customers cannot sign in); a failing run of another journey is
high (a customer path is broken, but people can still sign in). The next passing run marks it fixed; a later
failure brings it back as regressed. A deleted journey takes its finding with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction

from audits import client_status
from audits.findings import Finding
from audits.models import JourneyFinding
from audits.recording import History, recorded
from launchready.models import Route

SIGN_IN_FAILING = "journey.sign_in.failing"
PATH_FAILING = "journey.path.failing"
JOURNEY_IDS = frozenset({SIGN_IN_FAILING, PATH_FAILING})
Change = JourneyFinding.Change


@dataclass(frozen=True)
class JourneyOutcome:
    """A recorded journey run, as plain data: the journey by its code and name, and the failing step in the words
    of the run (already redacted)."""

    client_id: int
    journey: UUID
    name: str
    signs_in: bool
    ok: bool
    ran_at: datetime
    trigger: str = ""
    step: str = ""
    step_number: int = 0
    steps: int = 0
    summary: str = ""
    detail: str = ""
    fix: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


def finding_of(outcome: JourneyOutcome) -> Finding:
    """The failing run as a finding; a sign-in journey's ranks with the sign-in routes."""
    check_id = SIGN_IN_FAILING if outcome.signs_in else PATH_FAILING
    params = {
        "journey": outcome.name,
        "step": outcome.step,
        "number": outcome.step_number,
        "steps": outcome.steps,
        "summary": outcome.summary,
        "detail": outcome.detail or outcome.summary,
        "fix": outcome.fix or "Open the journey's latest run to see what the app answered.",
        "trigger": outcome.trigger,
    }
    kind = Route.Kind.LOGIN if outcome.signs_in else ""
    return Finding(check_id, str(outcome.journey), outcome.evidence, params, route_kind=kind)


@transaction.atomic
def record_journey_outcome(outcome: JourneyOutcome) -> JourneyFinding | None:
    """Keep the journey's finding in step with its latest run (the client's status row too, when what it counts
    changed); None when the journey has no finding (it never failed, or no longer does and never did)."""
    row = (
        JourneyFinding.objects.select_for_update().filter(client_id=outcome.client_id, journey=outcome.journey).first()
    )
    before = (row.is_open, row.severity) if row is not None else (False, "")
    if outcome.ok:
        if row is None:
            return None
        row.change, row.ran_at = Change.FIXED, outcome.ran_at
        row.save(update_fields=["change", "ran_at"])
    else:
        previous = {(row.check_id, row.subject)} if row is not None and row.is_open else set()
        ever = {(row.check_id, row.subject)} if row is not None else set()
        fresh = recorded(JourneyFinding, finding_of(outcome), History(previous, ever))
        if row is not None:
            fresh.id = row.id
        fresh.client_id, fresh.journey, fresh.journey_name = outcome.client_id, outcome.journey, outcome.name[:120]
        fresh.ran_at = outcome.ran_at
        if row is not None:
            fresh.save(force_update=True)
        else:  # a run of the same journey recording at this very moment wrote the same finding: it stands
            JourneyFinding.objects.bulk_create([fresh], ignore_conflicts=True)
        row = fresh
    if (row.is_open, row.severity) != before:
        client_status.refresh([outcome.client_id])  # an open blocker on the risk list is the client's
    return row


def journey_removed(client_id: int, journey: UUID) -> None:
    """The journey was deleted: its finding goes with it."""
    deleted, _ = JourneyFinding.objects.filter(client_id=client_id, journey=journey).delete()
    if deleted:
        client_status.refresh([client_id])
