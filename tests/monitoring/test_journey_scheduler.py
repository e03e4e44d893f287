"""Journeys as monitors on the sandbox: a due journey is claimed by one worker only, runs, and is kept; two
failed runs in a row alert once with the failing step in plain English, a third does not alert again, and two
passed runs recover it with one recovery alert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from launchready.sandbox.runner import Sandbox
from launchready.sandbox.saas_app import ACCOUNT_EMAIL, ACCOUNT_PASSWORD, APEX_OF, Flaw, api_token
from monitoring.journey_scheduler import claim_due, tick
from monitoring.journey_templates import sign_in
from monitoring.journeys import create_journey, set_secret
from monitoring.models import Alert, AlertChannel, Journey, JourneyRun, Monitor
from tests.conftest import Tenant
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db


def _journey(tenant: Tenant, password: str = ACCOUNT_PASSWORD) -> Journey:
    apex = APEX_OF[Flaw.NONE]
    tenant.domain.delete()
    DomainFactory(client=tenant.client, name=apex)
    steps = sign_in(f"https://app.{apex}/login", f"https://app.{apex}/dashboard", f"https://api.{apex}/v1/me")
    journey = create_journey(tenant.client, "Sign in", steps, next_due_at=timezone.now() - timedelta(seconds=1))
    for name, value in (("email", ACCOUNT_EMAIL), ("password", password), ("api_token", api_token(apex))):
        set_secret(journey, name, value)
    return journey


def test_a_due_journey_is_claimed_once(tenant: Tenant) -> None:
    journey = _journey(tenant)
    empty = Journey.objects.create(client=tenant.client, name="No steps yet")
    now = timezone.now()
    assert [j.id for j in claim_due(now)] == [journey.id]  # a journey without steps is never due
    assert claim_due(now) == []  # a second worker, the same instant
    assert [j.id for j in claim_due(now + timedelta(minutes=2))] == [journey.id]  # the lease of a dead worker expires
    Journey.objects.filter(pk=journey.pk).update(enabled=False, claimed_until=None)
    assert claim_due(now + timedelta(minutes=5)) == []
    assert empty.runs.count() == 0


def test_failing_runs_alert_once_and_passing_runs_recover(sandbox_env: Sandbox, tenant: Tenant) -> None:
    journey = _journey(tenant, password="a wrong password")
    AlertChannel.objects.create(client=tenant.client, kind="email", name="Team", recipients=["ops@example.com"])
    start = timezone.now()

    def round_at(minutes: int) -> Journey:
        Journey.objects.filter(pk=journey.pk).update(next_due_at=start + timedelta(minutes=minutes))
        assert tick(start + timedelta(minutes=minutes)) == 1
        return Journey.objects.get(pk=journey.pk)

    assert round_at(0).state == Monitor.State.UNKNOWN  # one failed run is not an outage
    after = round_at(1)
    assert after.state == Monitor.State.DOWN and after.outages == 1 and after.claimed_until is None
    (down,) = Alert.objects.filter(kind=Alert.Kind.JOURNEY)
    assert down.payload["state"] == "down" and down.payload["journey"] == "Sign in"
    assert down.payload["detail"].startswith(
        "2 failed runs in a row: “Sign in” answered with the sign-in form again: "
        "the app refused the test account's email or password"
    )
    assert "a wrong password" not in str(down.payload)
    round_at(2)
    assert Alert.objects.filter(kind=Alert.Kind.JOURNEY).count() == 1  # still one outage, one alert
    set_secret(journey, "password", ACCOUNT_PASSWORD)  # fixed
    assert round_at(3).state == Monitor.State.DOWN  # one passed run is not a recovery
    recovered = round_at(4)
    assert recovered.state == Monitor.State.UP
    up = Alert.objects.get(kind=Alert.Kind.JOURNEY, dedupe_key=f"journey:{journey.id}:1:up")
    assert up.payload["detail"].startswith("2 passed runs in a row: All 4 steps passed")
    assert list(JourneyRun.objects.filter(journey=journey).values_list("ok", flat=True).order_by("started_at")) == [
        False,
        False,
        False,
        True,
        True,
    ]
    assert set(JourneyRun.objects.values_list("trigger", flat=True)) == {JourneyRun.Trigger.MONITOR}


def test_a_journey_due_before_the_next_beat_is_claimed_now_and_starts_on_its_due_second(
    sandbox_env: Sandbox, tenant: Tenant
) -> None:
    journey = _journey(tenant)
    due = timezone.now() + timedelta(seconds=2)
    Journey.objects.filter(pk=journey.pk).update(next_due_at=due)
    assert tick(lookahead=0.5) == 0  # not due before this beat's next one
    assert tick(lookahead=15) == 1
    run = JourneyRun.objects.get(journey=journey)
    assert run.ok and run.started_at >= due  # kept with when it started, not when it was written down
    after = Journey.objects.get(pk=journey.pk)
    assert after.next_due_at == due + timedelta(seconds=journey.interval) and after.claimed_until is None
