"""p95 per journey and per step from the rollups the scheduled runs are added to: known timings give known
figures (the histogram's bucket bounds), runs by hand do not count, a failed step's time is no latency figure,
the figures read the same from hourly and daily rows; the journey page and the client's monitoring page show them
in a few queries, and another tenant's journey is a 404."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring import journey_rollup
from monitoring.journey_scheduler import advance
from monitoring.journey_steps import StepSpec
from monitoring.journeys import create_journey
from monitoring.models import Journey, JourneyRollup, JourneyRun
from monitoring.rollup import DAY, day_start, hour_start
from tests.conftest import Tenant, login

pytestmark = pytest.mark.django_db

STEPS = ("Open the sign-in page", "Sign in", "Open the dashboard")


def _journey(tenant: Tenant) -> Journey:
    host = tenant.domain.name
    steps = [StepSpec(name=name, url=f"https://{host}/{i}") for i, name in enumerate(STEPS)]
    return create_journey(tenant.client, "Sign in", steps)


def _run(
    journey: Journey,
    at: datetime,
    step_ms: tuple[float, ...],
    *,
    failing: int | None = None,
    trigger: str = JourneyRun.Trigger.MONITOR,
) -> JourneyRun:
    steps = [
        {"name": STEPS[i], "ran": failing is None or i <= failing, "ok": failing is None or i < failing, "ms": ms}
        for i, ms in enumerate(step_ms)
    ]
    return JourneyRun.objects.create(
        journey=journey,
        trigger=trigger,
        started_at=at,
        ms=sum(step_ms),
        ok=failing is None,
        failing_step=failing,
        summary="passed" if failing is None else "failed",
        steps=steps,
    )


def _day(journey: Journey, start: datetime) -> list[JourneyRun]:
    """100 runs in one hour: 95 quick ones and 5 slow, the 5 slow ones with a slow dashboard; two failures at
    the dashboard taking 9 s (a failure's time is no latency figure) and one run by hand taking 20 s."""
    runs = [_run(journey, start + timedelta(seconds=30 * i), (40, 90, 140)) for i in range(95)]
    runs += [_run(journey, start + timedelta(minutes=48, seconds=i), (40, 90, 1400)) for i in range(5)]
    runs += [_run(journey, start + timedelta(minutes=50 + i), (40, 90, 9000), failing=2) for i in range(2)]
    runs.append(_run(journey, start + timedelta(minutes=55), (20000, 90, 140), trigger=JourneyRun.Trigger.MANUAL))
    return runs


def test_p95_per_journey_and_step_come_from_the_runs_timings(tenant: Tenant) -> None:
    journey = _journey(tenant)
    hour = hour_start(timezone.now()) - timedelta(hours=2)
    assert journey_rollup.add_runs(_day(journey, hour)) == 2  # one hourly row and one daily row
    window = journey_rollup.last_hours([journey.id], 24)[journey.id]
    assert (window.runs, window.failures) == (102, 2)
    # Runs that passed took 270 ms (bucket up to 300 ms) or 1,530 ms (up to 2 s): 95 of 100 under 300 ms.
    assert window.p95 == 300.0
    assert window.step_p95(0) == 40.0 and window.step_p95(1) == 100.0  # the bucket bounds holding 40 and 90 ms
    # The dashboard: 95 at 140 ms, 5 at 1.4 s (the two failures at 9 s not counted): the 95th is 140 ms's bucket.
    assert window.step_p95(2) == 150.0
    more = [_run(journey, hour + timedelta(minutes=59, seconds=i), (40, 90, 1400)) for i in range(10)]
    journey_rollup.add_runs(more)  # added to the same rows, not a second pair
    assert JourneyRollup.objects.filter(journey=journey).count() == 2
    window = journey_rollup.last_hours([journey.id], 24)[journey.id]
    assert window.runs == 112 and window.step_p95(2) == 1500.0  # 15 of 110 steps that passed now at 1.4 s
    assert window.uptime == pytest.approx(100 * 110 / 112)


def test_a_window_of_whole_days_reads_the_daily_rows_and_gives_the_same_figures(tenant: Tenant) -> None:
    journey = _journey(tenant)
    day = day_start(timezone.now()) - timedelta(days=3)
    journey_rollup.add_runs(_day(journey, day + timedelta(hours=5)))
    journey_rollup.add_runs(_day(journey, day + DAY + timedelta(hours=7)))
    JourneyRollup.objects.filter(journey=journey, period="hour").delete()  # whole days: the daily rows alone
    window = journey_rollup.windows([journey.id], day, day + 2 * DAY)[journey.id]
    assert window.runs == 204 and window.p95 == 300.0 and window.step_p95(2) == 150.0
    partial = journey_rollup.windows([journey.id], day + timedelta(hours=1), day + 2 * DAY)[journey.id]
    assert partial.runs == 102  # the first day is not whole: read from its hours, which are gone
    assert journey_rollup.windows([journey.id], day - 7 * DAY, day)[journey.id].runs == 0


def test_old_rollups_are_pruned(tenant: Tenant) -> None:
    journey = _journey(tenant)
    now = timezone.now()
    journey_rollup.add_runs([_run(journey, now - timedelta(days=40), (40, 90, 140))])
    journey_rollup.add_runs([_run(journey, now, (40, 90, 140))])
    assert journey_rollup.prune(now) == {"journey_hourly": 1, "journey_daily": 0}
    assert JourneyRollup.objects.filter(journey=journey).count() == 3


def test_the_journey_page_shows_p95_per_step_in_a_few_queries(tenant: Tenant, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    journey = _journey(tenant)
    journey_rollup.add_runs(_day(journey, hour_start(timezone.now()) - timedelta(hours=1)))
    days_ago = hour_start(timezone.now()) - timedelta(days=3)
    journey_rollup.add_runs(_day(journey, days_ago))
    journey_rollup.add_runs([_run(journey, days_ago + timedelta(seconds=i), (40, 90, 1400)) for i in range(20)])
    start = timezone.now() - timedelta(minutes=30)
    for minute, failing in enumerate([2, 2, None, None]):
        journey.refresh_from_db()
        run = _run(journey, start + timedelta(minutes=minute), (40, 90, 140), failing=failing)
        advance(journey, run, run.started_at)
    http = login(tenant.consultant)
    with django_assert_max_num_queries(12):  # the journey's rollups: one query per window, whatever the history
        page = http.get(reverse("journey_detail", args=[journey.code])).content.decode()
    # The last 24 hours hold one slow dashboard in 20; the week, 30 in 220: its p95 is the slow bucket's.
    assert "<td>3. Open the dashboard</td><td>150 ms</td><td>1.5 s</td>" in page
    assert "<td>1. Open the sign-in page</td><td>40 ms</td><td>40 ms</td>" in page
    assert '<th scope="row">The whole journey (runs that passed)</th><td>300 ms</td><td>2.0 s</td>' in page
    assert "Over the last 24 hours, 100 of 102 runs passed (98.04%)" in page
    assert "over the last 7 days, 220 of 224 runs passed (98.21%)" in page
    assert "step 3, “Open the dashboard” failed" in page and "Recovered" in page


def test_the_client_page_lists_journey_incidents_with_the_route_ones(
    tenant: Tenant, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    journey = _journey(tenant)
    journey_rollup.add_runs(_day(journey, hour_start(timezone.now()) - timedelta(hours=1)))
    start = timezone.now() - timedelta(minutes=30)
    for minute in range(2):
        journey.refresh_from_db()
        advance(journey, _run(journey, start + timedelta(minutes=minute), (40, 90, 9000), failing=2), start)
    http = login(tenant.founder)
    with django_assert_max_num_queries(13):  # the journeys' rollups, their incidents and timelines: three queries
        page = http.get(reverse("client_monitoring", args=[tenant.client.code])).content.decode()
    assert "Journey “Sign in”: step 3, “Open the dashboard” failed" in page
    assert "Last 24 hours: 100 of 102 runs passed (98.04%), p95 300 ms" in page
    assert 'badge-stop">Ongoing' in page


def test_another_tenants_journey_is_a_404(tenant: Tenant, other_tenant: Tenant) -> None:
    journey = _journey(other_tenant)
    Journey.objects.filter(pk=journey.pk).update(name="Their checkout")
    journey_rollup.add_runs(_day(journey, hour_start(timezone.now()) - timedelta(hours=1)))
    http = login(tenant.consultant)
    assert http.get(reverse("journey_detail", args=[journey.code])).status_code == 404
    page = http.get(reverse("client_monitoring", args=[tenant.client.code])).content.decode()
    assert "Their checkout" not in page and str(journey.code) not in page


def test_a_round_is_added_in_the_same_queries_whatever_its_size(tenant: Tenant, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    journeys = [_journey(tenant) for _ in range(40)]
    at = timezone.now()
    first = [_run(j, at, (40, 90, 140)) for j in journeys]
    second = [_run(j, at + timedelta(seconds=1), (40, 90, 1400)) for j in journeys]
    journey_rollup.add_runs(first)
    with django_assert_max_num_queries(4):  # the rows locked and read, written back (and the savepoint's two)
        assert journey_rollup.add_runs(second) == 80
    windows = journey_rollup.last_hours([j.id for j in journeys], 24)
    assert {(w.runs, w.step_p95(2)) for w in windows.values()} == {(2, 1500.0)}
