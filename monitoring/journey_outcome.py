"""A journey run's outcome as other apps read it when the run is recorded (monitoring/signals.py sends it):
which journey, whether it signs in, passed or failed, and the failing step in the words the run page uses,
with evidence taken from the run's own (already redacted: no secret, cookie value, token or password)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from monitoring.journey_steps import StepSpec, posts_password
from monitoring.models import Journey, JourneyRun

MAX_HOPS_KEPT = 12


@dataclass(frozen=True)
class JourneyOutcome:
    client_id: int
    journey: UUID  # the journey's code
    name: str
    signs_in: bool  # one of its steps posts the test account's password
    ok: bool
    ran_at: datetime
    trigger: str  # how the run started, as people read it ("Monitor", "Run now", "Deploy smoke test")
    step: str = ""  # the failing step's name
    step_number: int = 0  # from 1; 0 when the run passed
    steps: int = 0
    summary: str = ""  # the run's verdict in plain English
    detail: str = ""
    fix: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


def signs_in(steps: Sequence[StepSpec]) -> bool:
    return any(posts_password(s.method, s.form, s.json_body) for s in steps)


def _evidence(journey: Journey, run: JourneyRun, index: int) -> dict[str, Any]:
    step = run.steps[index] if index < len(run.steps or []) else {}
    response = step.get("response") or {}
    hops = [
        {
            "address": hop.get("url", ""),
            "status": hop.get("status"),
            "cookies_sent": ", ".join(hop.get("cookies_sent") or []),
            "cookies_held_back": ", ".join(c.get("name", "") for c in hop.get("cookies_held_back") or []),
        }
        for hop in (step.get("hops") or [])[:MAX_HOPS_KEPT]
    ]
    return {
        "journey": journey.name,
        "step": f"{index + 1}. {step.get('name', '')}",
        "address": step.get("url", ""),
        "status": response.get("status"),
        "hops": hops,
        "run": str(run.code),
        "trigger": run.get_trigger_display(),
    }


def outcome_of(journey: Journey, run: JourneyRun, steps: Sequence[StepSpec]) -> JourneyOutcome:
    """The outcome of a recorded run, read from the run's row (its redacted words and evidence)."""
    common: dict[str, Any] = {
        "client_id": journey.client_id,
        "journey": journey.code,
        "name": journey.name,
        "signs_in": signs_in(steps),
        "ok": run.ok,
        "ran_at": run.started_at,
        "trigger": run.get_trigger_display(),
        "steps": len(steps),
        "summary": run.summary,
    }
    if run.ok or run.failing_step is None:
        return JourneyOutcome(**common)
    index = run.failing_step
    name = str((run.steps or [])[index].get("name", "")) if index < len(run.steps or []) else ""
    return JourneyOutcome(
        **common,
        step=name,
        step_number=index + 1,
        detail=run.detail,
        fix=run.fix,
        evidence=_evidence(journey, run, index),
    )
