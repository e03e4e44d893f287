"""Each monitor's probes of today and yesterday, counted as the scheduler records them: the overview's live
days. They must say what the raw probes and rollups say, however the probes arrive."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from launchready.formatting import Observed
from monitoring.models import Monitor, Probe, Rollup
from monitoring.rollup import day_start, hour_start, observed, rollup_day, rollup_hour, windows
from monitoring.scheduler import ProbeOutcome, record, save_states
from monitoring.summary import UPTIME_DAYS, uptime_totals
from monitoring.tallies import recount
from tests.conftest import Tenant
from tests.factories import ClientFactory, DomainFactory, RouteFactory

pytestmark = pytest.mark.django_db


def _monitor(client) -> Monitor:  # type: ignore[no-untyped-def]
    route = RouteFactory(domain=DomainFactory(client=client))
    return Monitor.objects.create(client=client, route=route, url=route.url)


def _outcome(monitor: Monitor, at: datetime, ok: bool) -> ProbeOutcome:
    return ProbeOutcome(monitor.id, monitor.next_due_at, at, ok, 200 if ok else 502, 90.0 if ok else None, "", "")


def _tallies(monitor: Monitor) -> tuple[object, ...]:
    monitor.refresh_from_db()
    return (
        monitor.tally_day,
        monitor.tally_probes,
        monitor.tally_failures,
        monitor.tally_prev_probes,
        monitor.tally_prev_failures,
    )


def test_each_recorded_probe_is_counted_on_its_day(tenant: Tenant) -> None:
    monitor = _monitor(tenant.client)
    today = day_start(timezone.now())
    for minute, ok in enumerate([True, False, True]):
        record([monitor], [_outcome(monitor, today + timedelta(minutes=minute), ok)], timezone.now())
    assert _tallies(monitor) == (today.date(), 3, 1, 0, 0)

    tomorrow = today + timedelta(days=1)
    record([monitor], [_outcome(monitor, tomorrow + timedelta(minutes=1), False)], timezone.now())
    assert _tallies(monitor) == (tomorrow.date(), 1, 1, 3, 1)  # the day moved on: today's counts are the day before's

    record(
        [monitor], [_outcome(monitor, today + timedelta(hours=23), False)], timezone.now()
    )  # late, of the day before
    assert _tallies(monitor) == (tomorrow.date(), 1, 1, 4, 2)

    record([monitor], [_outcome(monitor, today - timedelta(hours=1), False)], timezone.now())  # older: not live
    assert _tallies(monitor) == (tomorrow.date(), 1, 1, 4, 2)

    in_three_days = today + timedelta(days=3)
    record([monitor], [_outcome(monitor, in_three_days, True)], timezone.now())
    assert _tallies(monitor) == (in_three_days.date(), 1, 0, 0, 0)  # two days on: nothing before is live


def test_two_rounds_racing_on_one_monitor_both_count(tenant: Tenant) -> None:
    """A worker whose claim expired and the one that claimed the monitor after it save from the same stale copy."""
    monitor = _monitor(tenant.client)
    now = timezone.now()
    stale = Monitor.objects.get(pk=monitor.pk)
    save_states([stale], [_outcome(stale, now, True)])
    save_states([stale], [_outcome(stale, now + timedelta(seconds=1), False)])
    assert _tallies(monitor) == (day_start(now).date(), 2, 1, 0, 0)


def _reference(client_ids: list[int], now: datetime) -> dict[int, Observed]:
    """The overview's figure as every other surface reads a window: rollups and raw probes over the 30 days."""
    first = day_start(now) - timedelta(days=UPTIME_DAYS - 1)
    monitors = list(Monitor.objects.filter(client_id__in=client_ids).values_list("id", "client_id", "interval"))
    seen = windows([mid for mid, _, _ in monitors], first, now, now)
    per_client: dict[int, list[tuple[int, int, int]]] = {}
    for mid, cid, interval in monitors:
        if seen[mid].probes:
            per_client.setdefault(cid, []).append((seen[mid].probes, seen[mid].failures, interval))
    return {cid: observed(counts, now - first) for cid, counts in per_client.items()}


def _seed(tenant: Tenant) -> tuple[list[int], list[Monitor]]:
    """Three clients, five monitors: 29 settled days of daily rollups (one day with an outage), then yesterday
    and today so far probed every ten minutes (a few failures), as the rollup task leaves them."""
    now = timezone.now()
    today = day_start(now)
    clients = [tenant.client, ClientFactory(workspace=tenant.workspace), ClientFactory(workspace=tenant.workspace)]
    monitors = [_monitor(clients[i % 3]) for i in range(5)]
    monitors.append(_monitor(ClientFactory(workspace=tenant.workspace)))  # added today: no history at all
    Rollup.objects.bulk_create(
        Rollup(
            monitor=m, period="day", start=today - timedelta(days=back), probes=1440, failures=40 if back == 9 else 0
        )
        for m in monitors[:5]
        for back in range(2, UPTIME_DAYS + 3)
    )
    return [c.id for c in clients] + [monitors[-1].client_id], monitors


def _probe_times(now: datetime) -> list[datetime]:
    start = day_start(now) - timedelta(days=1)
    return [start + timedelta(minutes=10 * i, seconds=7) for i in range(int((now - start).total_seconds() // 600))]


def _roll_up(times: list[datetime]) -> None:
    for hour in sorted({hour_start(at) for at in times}):
        rollup_hour(hour)
    for day in sorted({day_start(at) for at in times}):
        rollup_day(day)


def test_the_overview_figure_of_recorded_probes_is_every_other_surfaces(tenant: Tenant) -> None:
    client_ids, monitors = _seed(tenant)
    now = timezone.now()
    times = _probe_times(now)
    for n, at in enumerate(times):
        outcomes = [_outcome(m, at, ok=(n + i) % 37 != 0) for i, m in enumerate(monitors[:5])]
        if at >= day_start(now):  # the monitor added today
            outcomes.append(_outcome(monitors[5], at, ok=n % 3 != 0))
        record(monitors, outcomes, at)
    _roll_up(times[: len(times) - 2])  # the rollup task has not seen the last two probes yet

    totals = uptime_totals(client_ids, now)

    assert totals == _reference(client_ids, now)
    assert all(totals[cid].failures > 0 for cid in client_ids[:3])  # figures with something in them


def test_recount_fills_the_tallies_of_probes_recorded_before_they_were_kept(tenant: Tenant) -> None:
    client_ids, monitors = _seed(tenant)
    now = timezone.now()
    times = _probe_times(now)
    Probe.objects.bulk_create(
        Probe(monitor=m, at=at, ok=(n + i) % 23 != 0, latency_ms=100.0)
        for n, at in enumerate(times)
        for i, m in enumerate(monitors)
    )
    _roll_up(times[: len(times) // 2])
    assert uptime_totals(client_ids, now) != _reference(client_ids, now)  # nothing counted the live days yet

    assert recount(now=now) == len(monitors)

    assert uptime_totals(client_ids, now) == _reference(client_ids, now)
