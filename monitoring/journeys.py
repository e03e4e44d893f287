"""A client's journeys as records: their steps saved and read back as plain specs, their secrets set (encrypted)
and never read out, a run kept with its redacted evidence, and the journey exported without its secrets."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from launchready.models import Client, Domain, Route
from launchready.net import NetConfig
from monitoring import journey_templates
from monitoring.journey_evidence import run_evidence
from monitoring.journey_outcome import outcome_of
from monitoring.journey_runner import JOURNEY_DEADLINE, JourneyResult, run
from monitoring.journey_steps import (
    MAX_STEPS,
    NAME,
    JourneySpec,
    StepSpec,
    assertions_from,
    extractions_from,
    step_problems,
)
from monitoring.models import Journey, JourneyRun, JourneySecret, JourneyStep
from monitoring.signals import journey_run_recorded

logger = logging.getLogger(__name__)
RUNS_KEPT = 50  # runs of one journey kept with their evidence; older ones are deleted as new ones come


class JourneyError(ValueError):
    """A journey or step that cannot be saved as given; the message says why in a sentence."""


def client_domains(client: Client) -> tuple[str, ...]:
    return tuple(Domain.objects.filter(client=client).order_by("name").values_list("name", flat=True))


def step_spec(step: JourneyStep) -> StepSpec:
    return StepSpec(
        name=step.name,
        url=step.url,
        method=step.method,
        headers=tuple((str(n), str(v)) for n, v in step.headers),
        body_kind=step.body_kind,
        form=tuple((str(n), str(v)) for n, v in step.form),
        json_body=step.json_body,
        extractions=extractions_from(step.extractions),
        assertions=assertions_from(step.assertions),
        follow_redirects=step.follow_redirects,
    )


def journey_spec(journey: Journey) -> JourneySpec:
    """The journey ready to run, its secrets decrypted in memory for this run only."""
    steps = tuple(step_spec(s) for s in journey.steps.order_by("order"))
    secrets = {s.name: s.value for s in journey.secrets.all()}
    variables = {str(k): str(v) for k, v in (journey.variables or {}).items()}
    return JourneySpec(journey.name, steps, client_domains(journey.client), variables, secrets)


def step_row_fields(spec: StepSpec) -> dict[str, Any]:
    """A step's fields as its row keeps them."""
    return {
        "name": spec.name,
        "method": spec.method,
        "url": spec.url,
        "headers": [list(h) for h in spec.headers],
        "body_kind": spec.body_kind,
        "form": [list(f) for f in spec.form],
        "json_body": spec.json_body,
        "extractions": [e.as_dict() for e in spec.extractions],
        "assertions": [a.as_dict() for a in spec.assertions],
        "follow_redirects": spec.follow_redirects,
    }


def _step_row(journey: Journey, order: int, spec: StepSpec) -> JourneyStep:
    return JourneyStep(journey=journey, order=order, **step_row_fields(spec))


def save_steps(journey: Journey, steps: list[StepSpec]) -> None:
    """Replace the journey's steps; nothing is saved when any step breaks a rule (the error names them all)."""
    if len(steps) > MAX_STEPS:
        raise JourneyError(f"a journey has at most {MAX_STEPS} steps")
    domains = client_domains(journey.client)
    problems = [f"step {i}: {p}" for i, s in enumerate(steps, start=1) for p in step_problems(s, domains)]
    if problems:
        raise JourneyError("; ".join(problems))
    with transaction.atomic():
        journey.steps.all().delete()
        JourneyStep.objects.bulk_create([_step_row(journey, i, s) for i, s in enumerate(steps)])


def create_journey(client: Client, name: str, steps: list[StepSpec], **fields: Any) -> Journey:
    with transaction.atomic():
        journey = Journey.objects.create(client=client, name=name, **fields)
        save_steps(journey, steps)
    return journey


def set_secret(journey: Journey, name: str, value: str) -> JourneySecret:
    """Keep a secret variable, encrypted; setting it again replaces the value. It is never read back out."""
    if not NAME.fullmatch(name):
        raise JourneyError("a secret's name has letters, digits and _ (it is used as {{name}})")
    if not value or len(value) > 4096:
        raise JourneyError("a secret's value has 1 to 4096 characters")
    if name in (journey.variables or {}):
        raise JourneyError(f"{name} is already a plain variable of this journey")
    secret = JourneySecret.objects.filter(journey=journey, name=name).first() or JourneySecret(
        journey=journey, name=name
    )
    secret.value = value
    secret.updated = timezone.now()
    secret.save()
    return secret


def secret_names(journey: Journey) -> list[str]:
    return list(journey.secrets.order_by("name").values_list("name", flat=True))


def run_journey_now(
    journey: Journey,
    *,
    trigger: str = JourneyRun.Trigger.MANUAL,
    config: NetConfig | None = None,
    deadline: float = JOURNEY_DEADLINE,
) -> JourneyRun:
    """Run the journey and keep the run with its redacted evidence."""
    return record_run(journey, run(journey_spec(journey), config, deadline=deadline), trigger)


def record_run(journey: Journey, result: JourneyResult, trigger: str) -> JourneyRun:
    """Keep a run with its redacted evidence, drop the runs past RUNS_KEPT, say so in one log line, and tell the
    apps that read journeys' outcomes (the risk list) how it went."""
    failing = result.failing
    explanation = failing.explanation if failing is not None else None
    redact = result.redactor.text
    record = JourneyRun.objects.create(
        journey=journey,
        trigger=trigger,
        started_at=timezone.now() - timedelta(milliseconds=result.ms),
        ms=round(result.ms, 1),
        ok=result.ok,
        failing_step=failing.index if failing is not None else None,
        summary=redact(result.summary)[:300],
        detail=redact(explanation.detail) if explanation else "",
        fix=redact(explanation.fix) if explanation else "",
        steps=run_evidence(result),
    )
    stale = JourneyRun.objects.filter(journey=journey).order_by("-started_at").values_list("id", flat=True)[RUNS_KEPT:]
    JourneyRun.objects.filter(id__in=list(stale)).delete()
    logger.info(
        "journey run",
        extra={"journey": str(journey.code), "ok": result.ok, "ms": round(result.ms), "summary": record.summary},
    )
    if result.steps:  # a journey without a step yet says nothing about the customers' paths
        outcome = outcome_of(journey, record, [s.step for s in result.steps])
        journey_run_recorded.send(sender=Journey, outcome=outcome)
    return record


def journey_export(journey: Journey) -> dict[str, Any]:
    """The journey as a document to keep or move: its steps and plain variables, its secrets by name only."""
    return {
        "name": journey.name,
        "interval": journey.interval,
        "enabled": journey.enabled,
        "variables": dict(journey.variables or {}),
        "secrets": secret_names(journey),
        "steps": [
            {
                "name": s.name,
                "method": s.method,
                "url": s.url,
                "headers": s.headers,
                "body_kind": s.body_kind,
                "form": s.form,
                "json_body": s.json_body,
                "extractions": s.extractions,
                "assertions": s.assertions,
                "follow_redirects": s.follow_redirects,
            }
            for s in journey.steps.order_by("order")
        ],
    }


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    description: str
    steps: list[StepSpec]


def _route_url(client: Client, kind: str) -> str:
    route = Route.objects.filter(domain__client=client, kind=kind).select_related("domain").order_by("created").first()
    return route.url if route is not None else ""


def templates_for(client: Client) -> list[Template]:
    """The usual journeys, prefilled from the client's routes (login, dashboard, API), or from its first
    domain's usual addresses when it has no such route."""
    domain = Domain.objects.filter(client=client).order_by("created").first()
    base = f"https://app.{domain.name}" if domain is not None else "https://app.example.com"
    login = _route_url(client, Route.Kind.LOGIN) or f"{base}/login"
    dashboard = _route_url(client, Route.Kind.DASHBOARD) or f"{base}/dashboard"
    api = _route_url(client, Route.Kind.API_HEALTH)
    origin = login.split("/", 3)
    site = "/".join(origin[:3])
    return [
        Template(
            "sign_in",
            "Sign in → dashboard → API",
            "Takes the form's CSRF token, signs in with the test account, opens the dashboard"
            + (" and calls the API with a bearer token." if api else "."),
            journey_templates.sign_in(login, dashboard, api),
        ),
        Template(
            "sign_up",
            "Sign-up page reachable",
            "The sign-up form answers.",
            journey_templates.sign_up_reachable(f"{site}/signup"),
        ),
        Template(
            "password_reset",
            "Password reset accepted",
            "Asks for a reset link for the test account.",
            journey_templates.password_reset(f"{site}/password/reset"),
        ),
    ]


def create_from_template(client: Client, key: str) -> Journey:
    template = next((t for t in templates_for(client) if t.key == key), None)
    # Off until the consultant turns it on: a journey still without its secrets would fail and alert.
    if template is None or not client_domains(client):
        return create_journey(client, "New journey", [], enabled=False)
    name = template.title
    if Journey.objects.filter(client=client, name=name).exists():
        name = f"{name} ({Journey.objects.filter(client=client).count() + 1})"
    return create_journey(client, name, template.steps, enabled=False)
