"""The weekly report gives each journey's week as it gives each route's: its scheduled runs passed, its p95
against last week's and each step's p95, and names the step that failed in each of the week's journey outages,
in its HTML and plain text alike."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitoring import journey_rollup
from monitoring.journey_scheduler import advance
from monitoring.journey_steps import StepSpec
from monitoring.journeys import create_journey
from monitoring.models import Journey, JourneyRun
from reports.mail import render
from reports.weekly import build_report
from reports.weeks import period_for
from tests.conftest import Tenant
from tests.reports.report_data import WEEK

pytestmark = pytest.mark.django_db

STEPS = ("Open the sign-in page", "Sign in", "Open the dashboard")


def _run(journey: Journey, at: datetime, dashboard_ms: float, *, ok: bool = True) -> JourneyRun:
    steps = [
        {"name": STEPS[0], "ran": True, "ok": True, "ms": 40.0},
        {"name": STEPS[1], "ran": True, "ok": ok, "ms": 90.0},
        {"name": STEPS[2], "ran": ok, "ok": ok, "ms": dashboard_ms if ok else 0.0},
    ]
    return JourneyRun.objects.create(
        journey=journey,
        trigger=JourneyRun.Trigger.MONITOR,
        started_at=at,
        ms=130.0 + (dashboard_ms if ok else 0.0),
        ok=ok,
        failing_step=None if ok else 1,
        summary="All 3 steps passed" if ok else "“Sign in” answered with the sign-in form again",
        detail="" if ok else "the app refused the test account's email or password",
        steps=steps,
    )


def test_each_journeys_week_and_outages_are_in_the_report(tenant: Tenant) -> None:
    period = period_for(tenant.client, WEEK)
    host = tenant.domain.name
    journey = create_journey(
        tenant.client, "Sign in", [StepSpec(name=n, url=f"https://{host}/{i}") for i, n in enumerate(STEPS)]
    )
    create_journey(tenant.client, "Draft, never enabled", [], enabled=False)  # not a monitor: not in the report
    tuesday = period.start + timedelta(days=1, hours=9)
    # This week: 190 runs with a 140 ms dashboard, 10 at 900 ms, 2 failures; last week all at 140 ms.
    runs = [_run(journey, tuesday + timedelta(minutes=i), 140) for i in range(190)]
    runs += [_run(journey, tuesday + timedelta(hours=4, minutes=i), 900) for i in range(10)]
    runs += [_run(journey, tuesday - timedelta(days=7, minutes=-i), 140) for i in range(50)]
    journey_rollup.add_runs(runs)
    for minute in range(2):  # Wednesday: two failed runs in a row, an outage
        at = tuesday + timedelta(days=1, minutes=minute)
        journey.refresh_from_db()
        run = _run(journey, at, 0, ok=False)
        journey_rollup.add_runs([run])
        advance(journey, run, at)
    for minute in range(2, 4):
        at = tuesday + timedelta(days=1, minutes=minute)
        journey.refresh_from_db()
        advance(journey, _run(journey, at, 140), at)

    data = build_report(tenant.client, WEEK, now=period.end + timedelta(hours=9))
    [row] = data["journeys"]
    assert row["name"] == "Sign in" and row["passed"] == "200 of 202 runs passed" and row["uptime"] == "99.01%"
    # 200 passed runs: 190 took 270 ms (the bucket up to 300 ms), 10 took 1,030 ms: the 95th is under 300 ms.
    assert row["p95"] == "300 ms" and row["p95_last_week"] == "300 ms" and row["trend"] == "steady"
    assert [(s["name"], s["p95"]) for s in row["steps"]] == [
        ("Open the sign-in page", "40 ms"),
        ("Sign in", "100 ms"),
        ("Open the dashboard", "150 ms"),
    ]
    [outage] = data["journey_outages"]
    assert outage["name"] == "Sign in" and outage["step"] == "step 2, “Sign in”"
    assert outage["started"] == "Wed 11 Nov 09:00" and outage["duration"] == "3 min" and not outage["ongoing"]
    rendered = render(data)
    for text in (rendered.text, rendered.html):
        assert "Journeys failing" in text and "step 2, “Sign in” failed" in text
        assert "200 of 202 runs passed" in text and "3. Open the dashboard: p95 150 ms" in text
        assert "Draft, never enabled" not in text


def test_a_client_without_journeys_has_no_journey_section(tenant: Tenant) -> None:
    data = build_report(tenant.client, WEEK, now=period_for(tenant.client, WEEK).end + timedelta(hours=9))
    assert data["journeys"] == [] and data["journey_outages"] == []
    rendered = render(data)
    assert "Journeys" not in rendered.text and "Journeys" not in rendered.html
