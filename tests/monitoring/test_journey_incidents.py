"""A journey's outages as incidents: on the sandbox app whose dashboard fails after sign-in, two failed scheduled
runs open one incident naming the step and why, its alert is noted on the timeline once sent, and two passed
runs close it once; with no channel the timeline says nobody was told."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from launchready.sandbox.runner import Sandbox
from launchready.sandbox.saas_app import ACCOUNT_EMAIL, ACCOUNT_PASSWORD, APEX_OF, Flaw, api_token
from monitoring.delivery import alert_send
from monitoring.journey_scheduler import advance, tick
from monitoring.journey_templates import sign_in
from monitoring.journeys import create_journey, save_steps, set_secret
from monitoring.models import (
    Alert,
    AlertChannel,
    IncidentEvent,
    Journey,
    JourneyIncident,
    JourneyRollup,
    JourneyRun,
    Monitor,
)
from tests.conftest import Tenant
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db

BROKEN = APEX_OF[Flaw.DASHBOARD_500]
HEALTHY = APEX_OF[Flaw.NONE]


def _steps(apex: str):  # type: ignore[no-untyped-def]
    return sign_in(f"https://app.{apex}/login", f"https://app.{apex}/dashboard", f"https://api.{apex}/v1/me")


def _journey(tenant: Tenant) -> Journey:
    tenant.domain.delete()
    DomainFactory(client=tenant.client, name=BROKEN)
    DomainFactory(client=tenant.client, name=HEALTHY)
    journey = create_journey(tenant.client, "Sign in", _steps(BROKEN), next_due_at=timezone.now())
    for name, value in (("email", ACCOUNT_EMAIL), ("password", ACCOUNT_PASSWORD), ("api_token", api_token(BROKEN))):
        set_secret(journey, name, value)
    return journey


def _kinds(incident: JourneyIncident) -> list[str]:
    return list(incident.events.values_list("kind", flat=True))


def test_a_failing_journey_opens_one_incident_naming_the_step_and_recovery_closes_it_once(
    sandbox_env: Sandbox, tenant: Tenant
) -> None:
    journey = _journey(tenant)
    AlertChannel.objects.create(client=tenant.client, kind="email", name="Team", recipients=["ops@example.com"])
    start = timezone.now()

    def round_at(minutes: int) -> Journey:
        Journey.objects.filter(pk=journey.pk).update(next_due_at=start + timedelta(minutes=minutes))
        assert tick(start + timedelta(minutes=minutes)) == 1
        return Journey.objects.get(pk=journey.pk)

    round_at(0)
    assert not JourneyIncident.objects.exists()  # one failed run is not an outage
    assert round_at(1).state == Monitor.State.DOWN
    round_at(2)  # still failing: the same outage
    (incident,) = JourneyIncident.objects.all()
    first, marking = JourneyRun.objects.filter(journey=journey).order_by("started_at")[:2]
    assert incident.is_open and incident.started_at == first.started_at
    # Signing in lands on the dashboard, which fails: the sign-in step is the one that did not get through.
    assert incident.failing_step == 1 and incident.step_name == "Sign in"
    assert "500" in incident.detail, incident.detail
    assert _kinds(incident) == [IncidentEvent.Kind.FIRST_FAILURE, IncidentEvent.Kind.OPENED]
    opened = incident.events.get(kind=IncidentEvent.Kind.OPENED)
    assert opened.at == marking.started_at
    assert opened.detail.startswith("2 failed runs in a row; step 2, “Sign in” failed: ")
    (down,) = Alert.objects.filter(kind=Alert.Kind.JOURNEY)
    assert down.payload["incident"] == incident.id and down.payload["step"] == "step 2, “Sign in”"
    assert alert_send(alert_id=down.id) == "sent" and len(mail.outbox) == 1
    assert incident.events.get(kind=IncidentEvent.Kind.ALERT_SENT).detail == "Down alert sent to Email: Team"

    save_steps(journey, _steps(HEALTHY))  # the fix: the dashboard that works
    set_secret(journey, "api_token", api_token(HEALTHY))
    assert round_at(3).state == Monitor.State.DOWN  # one passed run is not a recovery
    assert round_at(4).state == Monitor.State.UP
    round_at(5)
    incident.refresh_from_db()
    recovered = incident.events.get(kind=IncidentEvent.Kind.RECOVERED)  # closed once
    fifth = JourneyRun.objects.filter(journey=journey).order_by("started_at")[4]
    assert incident.ended_at == fifth.started_at == recovered.at
    assert recovered.detail == "2 passed runs in a row"
    assert JourneyIncident.objects.count() == 1
    up = Alert.objects.get(kind=Alert.Kind.JOURNEY, payload__state="up")
    assert up.payload["incident"] == incident.id
    assert alert_send(alert_id=up.id) == "sent"
    assert list(incident.events.filter(kind=IncidentEvent.Kind.ALERT_SENT).values_list("detail", flat=True)) == [
        "Down alert sent to Email: Team",
        "Recovery alert sent to Email: Team",
    ]
    # The six scheduled runs in this hour's and this day's rollups (the runs of minute 0 to 5 may straddle an
    # hour: summed over the hours they are six).
    hours = JourneyRollup.objects.filter(journey=journey, period="hour")
    assert sum(h.runs for h in hours) == 6 and sum(h.failures for h in hours) == 3
    assert sum(d.runs for d in JourneyRollup.objects.filter(journey=journey, period="day")) == 6


def _run(journey: Journey, ok: bool, at_minutes: int, start) -> JourneyRun:  # type: ignore[no-untyped-def]
    steps = [{"name": "Open the sign-in page", "ran": True, "ok": True, "ms": 40.0}]
    steps.append({"name": "Sign in", "ran": True, "ok": ok, "ms": 80.0})
    return JourneyRun.objects.create(
        journey=journey,
        trigger=JourneyRun.Trigger.MONITOR,
        started_at=start + timedelta(minutes=at_minutes),
        ms=120.0,
        ok=ok,
        failing_step=None if ok else 1,
        summary="All 2 steps passed" if ok else "“Sign in” answered with the sign-in form again",
        detail="" if ok else "the app refused the test account's email or password",
        steps=steps,
    )


def test_with_no_channel_the_timeline_says_nobody_was_told(tenant: Tenant) -> None:
    journey = Journey.objects.create(client=tenant.client, name="Sign in", interval=60)
    start = timezone.now() - timedelta(minutes=10)
    for minute, ok in enumerate([False, False, False, True, True]):
        journey.refresh_from_db()
        advance(journey, _run(journey, ok, minute, start), start + timedelta(minutes=minute))
    (incident,) = JourneyIncident.objects.all()
    assert incident.started_at == start and incident.ended_at == start + timedelta(minutes=4)
    assert incident.step_name == "Sign in" and incident.failing_step == 1
    assert incident.detail == (
        "“Sign in” answered with the sign-in form again. the app refused the test account's email or password"
    )
    assert _kinds(incident) == [
        IncidentEvent.Kind.FIRST_FAILURE,
        IncidentEvent.Kind.OPENED,
        IncidentEvent.Kind.NO_CHANNEL,
        IncidentEvent.Kind.RECOVERED,
        IncidentEvent.Kind.NO_CHANNEL,  # of the recovery
    ]
    told = incident.events.filter(kind=IncidentEvent.Kind.NO_CHANNEL).values_list("detail", flat=True)
    assert list(told) == [
        "add an alert channel for the client, or a default channel for the workspace",
        "of the recovery",
    ]
    assert not Alert.objects.exists()


def test_each_outage_is_its_own_incident(tenant: Tenant) -> None:
    journey = Journey.objects.create(client=tenant.client, name="Sign in", interval=60)
    start = timezone.now() - timedelta(minutes=20)
    for minute, ok in enumerate([False, False, True, True, False, False]):
        journey.refresh_from_db()
        advance(journey, _run(journey, ok, minute, start), start + timedelta(minutes=minute))
    first, second = JourneyIncident.objects.order_by("started_at")
    assert first.ended_at == start + timedelta(minutes=3) and second.is_open
    assert second.started_at == start + timedelta(minutes=4)
