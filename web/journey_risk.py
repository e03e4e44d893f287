"""A journey's latest run on the client's risk list: the monitoring says when a run is kept (a scheduled run,
"run now", a deploy's smoke test) and when a journey is deleted, and the audits keep the journey's finding
(audits/journey_findings.py). The two apps never import each other; this is where they meet."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.db.models.signals import post_delete
from django.dispatch import receiver

from audits.journey_findings import JourneyOutcome, journey_removed, record_journey_outcome
from monitoring import journey_outcome
from monitoring.models import Journey
from monitoring.signals import journey_run_recorded


def outcome_for_audits(outcome: journey_outcome.JourneyOutcome) -> JourneyOutcome:
    return JourneyOutcome(
        client_id=outcome.client_id,
        journey=outcome.journey,
        name=outcome.name,
        signs_in=outcome.signs_in,
        ok=outcome.ok,
        ran_at=outcome.ran_at,
        trigger=outcome.trigger,
        step=outcome.step,
        step_number=outcome.step_number,
        steps=outcome.steps,
        summary=outcome.summary,
        detail=outcome.detail,
        fix=outcome.fix,
        evidence=outcome.evidence,
    )


@receiver(journey_run_recorded, dispatch_uid="web.journey_risk.run_recorded")
def run_recorded(sender: type[Journey], outcome: journey_outcome.JourneyOutcome, **kwargs: Any) -> None:
    record_journey_outcome(outcome_for_audits(outcome))


@receiver(post_delete, sender=Journey, dispatch_uid="web.journey_risk.journey_deleted")
def journey_deleted(sender: type[Journey], instance: Journey, origin: Any = None, **kwargs: Any) -> None:
    """A journey deleted on its own (or with others of its kind); when its client is deleted, the client's
    findings and status row go with it."""
    deleted_itself = isinstance(origin, Journey) or (isinstance(origin, QuerySet) and origin.model is Journey)
    if deleted_itself:
        journey_removed(instance.client_id, instance.code)
