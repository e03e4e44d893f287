"""Journey pages: a client's journeys with the templates to start from, the editor (settings, steps, secrets
written but never shown, "run now" with each step's redacted request, hops, answer and checks), a step's form
and a run's evidence. Staff only: a founder gets 403, a stranger 404."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import F, Max
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.activity import record_activity
from accounts.http import AuthedRequest
from accounts.sudo import require_sudo
from launchready.tenancy import get_rw_client_for_user
from monitoring.forms import JourneyForm, JourneySecretForm, JourneyStepForm
from monitoring.incident_list import journey_incidents
from monitoring.journey_figures import journey_timings
from monitoring.journey_steps import MAX_STEPS, StepSpec
from monitoring.journeys import (
    JourneyError,
    client_domains,
    create_from_template,
    run_journey_now,
    secret_names,
    set_secret,
    step_row_fields,
    step_spec,
    templates_for,
)
from monitoring.models import Journey, JourneySecret, JourneyStep
from monitoring.scoping import get_rw_journey_for_user, get_rw_journey_run_for_user, get_rw_journey_step_for_user

MANUAL_DEADLINE = 30.0  # seconds: "run now" waits for the answer in the page


@login_required
def journeys(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    context = {
        "client": client,
        "journeys": Journey.objects.filter(client=client).prefetch_related("runs"),
        "templates": templates_for(client),
        "has_domain": bool(client_domains(client)),
    }
    return render(request, "monitoring/journeys.html", context)


@login_required
@require_POST
def journey_new(request: AuthedRequest, client_code: UUID) -> HttpResponse:
    client = get_rw_client_for_user(request.user, client_code)
    journey = create_from_template(client, request.POST.get("template", ""))
    record_activity(client.workspace, request.user, "journey.created", journey.name, request)
    messages.success(request, f"{journey.name} created: fill in its secrets, run it, then enable it as a monitor.")
    return redirect("journey_detail", journey.code)


def _editor_context(journey: Journey, form: JourneyForm | None = None) -> dict[str, object]:
    steps = list(journey.steps.order_by("order"))
    return {
        "journey": journey,
        "client": journey.client,
        "form": form or JourneyForm(instance=journey),
        "steps": steps,
        "timings": journey_timings(journey, steps),
        "incidents": journey_incidents([journey.id], 10),
        "secret_form": JourneySecretForm(),
        "secrets": secret_names(journey),
        "runs": journey.runs.all()[:10],
        "max_steps": MAX_STEPS,
    }


@login_required
def journey_detail(request: AuthedRequest, journey_code: UUID) -> HttpResponse:
    journey = get_rw_journey_for_user(request.user, journey_code)
    form = JourneyForm(request.POST or None, instance=journey)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"{journey.name} saved.")
        return redirect("journey_detail", journey.code)
    return render(request, "monitoring/journey.html", _editor_context(journey, form))


@login_required
@require_POST
def journey_delete(request: AuthedRequest, journey_code: UUID) -> HttpResponse:
    journey = get_rw_journey_for_user(request.user, journey_code)
    client = journey.client
    journey.delete()  # its steps, secrets and runs with it
    record_activity(client.workspace, request.user, "journey.deleted", journey.name, request)
    messages.success(request, f"{journey.name} deleted, with its secrets and runs.")
    return redirect("journeys", client.code)


@login_required
def journey_step_new(request: AuthedRequest, journey_code: UUID) -> HttpResponse:
    journey = get_rw_journey_for_user(request.user, journey_code)
    domains = client_domains(journey.client)
    form = JourneyStepForm(request.POST or None, domains=domains, initial={"method": "GET", "follow_redirects": True})
    if request.method == "POST" and journey.steps.count() >= MAX_STEPS:
        messages.error(request, f"A journey has at most {MAX_STEPS} steps.")
        return redirect("journey_detail", journey.code)
    if request.method == "POST" and form.is_valid():
        spec = form.cleaned_data["spec"]
        with transaction.atomic():
            last = journey.steps.aggregate(last=Max("order"))["last"]
            order = 0 if last is None else last + 1
            row = JourneyStep(journey=journey, order=order)
            _fill_step(row, spec)
            row.save()
        messages.success(request, f"Step “{spec.name}” added.")
        return redirect("journey_detail", journey.code)
    context = {"journey": journey, "client": journey.client, "form": form, "step": None}
    return render(request, "monitoring/journey_step.html", context)


def _fill_step(row: JourneyStep, spec: StepSpec) -> None:
    for name, value in step_row_fields(spec).items():
        setattr(row, name, value)


@login_required
def journey_step(request: AuthedRequest, step_code: UUID) -> HttpResponse:
    step = get_rw_journey_step_for_user(request.user, step_code)
    journey = step.journey
    domains = client_domains(journey.client)
    initial = JourneyStepForm.initial_for(step_spec(step))
    form = JourneyStepForm(request.POST or None, domains=domains, initial=initial)
    if request.method == "POST" and form.is_valid():
        _fill_step(step, form.cleaned_data["spec"])
        step.save()
        messages.success(request, f"Step “{step.name}” saved.")
        return redirect("journey_detail", journey.code)
    context = {"journey": journey, "client": journey.client, "form": form, "step": step}
    return render(request, "monitoring/journey_step.html", context)


@login_required
@require_POST
def journey_step_delete(request: AuthedRequest, step_code: UUID) -> HttpResponse:
    step = get_rw_journey_step_for_user(request.user, step_code)
    journey = step.journey
    with transaction.atomic():
        step.delete()
        # Close the gap: the steps after it move up one place, in order (the unique place holds at each update).
        for later in journey.steps.filter(order__gt=step.order).order_by("order"):
            JourneyStep.objects.filter(pk=later.pk).update(order=F("order") - 1)
    messages.success(request, f"Step “{step.name}” deleted.")
    return redirect("journey_detail", journey.code)


@login_required
@require_POST
def journey_secret(request: AuthedRequest, journey_code: UUID) -> HttpResponse:
    journey = get_rw_journey_for_user(request.user, journey_code)
    require_sudo(request)
    if request.POST.get("delete"):
        name = request.POST["delete"]
        JourneySecret.objects.filter(journey=journey, name=name).delete()
        record_activity(journey.client.workspace, request.user, "journey.secret_deleted", f"{journey}: {name}", request)
        messages.success(request, f"Secret {name} deleted.")
        return redirect("journey_detail", journey.code)
    form = JourneySecretForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items())
        messages.error(request, f"The secret was not saved: {errors}")
        return redirect("journey_detail", journey.code)
    name = form.cleaned_data["name"]
    try:
        set_secret(journey, name, form.cleaned_data["value"])
    except JourneyError as exc:
        messages.error(request, f"The secret was not saved: {exc}")
        return redirect("journey_detail", journey.code)
    record_activity(journey.client.workspace, request.user, "journey.secret_set", f"{journey}: {name}", request)
    messages.success(request, f"Secret {name} saved (encrypted; it is not shown again).")
    return redirect("journey_detail", journey.code)


@login_required
@require_POST
def journey_run(request: AuthedRequest, journey_code: UUID) -> HttpResponse:
    journey = get_rw_journey_for_user(request.user, journey_code)
    if not journey.steps.exists():
        messages.error(request, f"{journey.name} has no step to run yet.")
        return redirect("journey_detail", journey.code)
    run = run_journey_now(journey, deadline=MANUAL_DEADLINE)
    if request.headers.get("HX-Request") == "true":
        return render(request, "monitoring/_journey_run.html", {"run": run, "journey": journey})
    return redirect("journey_run_detail", run.code)


@login_required
def journey_run_detail(request: AuthedRequest, journey_run_code: UUID) -> HttpResponse:
    run = get_rw_journey_run_for_user(request.user, journey_run_code)
    context = {"run": run, "journey": run.journey, "client": run.journey.client}
    return render(request, "monitoring/journey_run.html", context)
