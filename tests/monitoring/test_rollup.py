"""Rollups: uptime and percentiles over any window from merged buckets, unknown time kept apart from
up time, storage bounded by pruning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from monitoring.models import Monitor, Probe, Rollup, SchedulerGap
from monitoring.rollup import (
    LAST_TICK_KEY,
    day_start,
    hour_start,
    note_tick,
    prune,
    rollup_day,
    rollup_hour,
    window,
    windows,
)
from monitoring.scheduler import sync_monitors
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def monitor(tenant: Tenant) -> Monitor:
    sync_monitors()
    return Monitor.objects.get(route=tenant.route)


def _probes(monitor: Monitor, start: timezone.datetime, count: int, latency: float, failures: int = 0) -> None:  # type: ignore[name-defined]
    Probe.objects.bulk_create(
        [
            Probe(
                monitor=monitor,
                at=start + timedelta(seconds=60 * i),
                ok=i >= failures,
                latency_ms=latency if i >= failures else None,
                cause="" if i >= failures else "status",
            )
            for i in range(count)
        ]
    )


def test_uptime_and_p95_over_days_come_from_merged_rollups(monitor: Monitor) -> None:
    today = day_start(timezone.now())
    for days_ago, latency, failures in [(2, 80.0, 0), (1, 450.0, 6)]:
        day = today - timedelta(days=days_ago)
        for hour in range(3):
            _probes(monitor, day + timedelta(hours=hour), 60, latency, failures if hour == 0 else 0)
            rollup_hour(day + timedelta(hours=hour))
        rollup_day(day)
    result = window(monitor, today - timedelta(days=2), today)
    assert (result.probes, result.failures) == (360, 6)
    assert result.uptime == pytest.approx(100 * 354 / 360)
    assert result.percentile(0.5) == 100.0  # the 80 ms bucket's upper bound
    assert result.percentile(0.95) == 500.0  # the 450 ms bucket's upper bound
    assert Rollup.objects.filter(period="day").count() == 2


def test_rebuilding_a_rollup_does_not_count_twice(monitor: Monitor) -> None:
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    _probes(monitor, start, 60, 120.0)
    rollup_hour(start)
    rollup_hour(start)
    assert Rollup.objects.get(period="hour", start=start).probes == 60


def test_time_the_scheduler_was_away_is_unknown_not_up(monitor: Monitor) -> None:
    cache.delete(LAST_TICK_KEY)
    now = timezone.now().replace(minute=30, second=0, microsecond=0) - timedelta(hours=2)
    assert note_tick(now) is None
    assert note_tick(now + timedelta(seconds=10)) is None
    gap = note_tick(now + timedelta(minutes=20))
    assert gap is not None and (gap.end - gap.start) == timedelta(minutes=19, seconds=50)
    _probes(monitor, now.replace(minute=0), 10, 100.0)
    rollup_hour(now)
    assert Rollup.objects.get(period="hour").unknown_seconds == 1190


def test_a_scheduler_that_stopped_with_redis_is_still_seen_to_have_been_away(monitor: Monitor) -> None:
    now = timezone.now()
    _probes(monitor, now - timedelta(minutes=10), 1, 100.0)  # the last probe before everything stopped
    cache.delete(LAST_TICK_KEY)  # Redis came back empty
    gap = note_tick(now)
    assert gap is not None and gap.end == now and (now - gap.start) >= timedelta(minutes=9)
    cache.delete(LAST_TICK_KEY)
    assert note_tick(now + timedelta(seconds=5)) is None  # the gap just recorded is not recorded again


def test_pruning_keeps_storage_per_route_bounded(monitor: Monitor) -> None:
    now = timezone.now()
    _probes(monitor, now - timedelta(hours=60), 30, 100.0)
    _probes(monitor, now - timedelta(hours=1), 30, 100.0)
    Rollup.objects.create(monitor=monitor, period="hour", start=now - timedelta(days=40), histogram=[])
    Rollup.objects.create(monitor=monitor, period="day", start=now - timedelta(days=40), histogram=[])
    SchedulerGap.objects.create(start=now - timedelta(days=500), end=now - timedelta(days=499))
    removed = prune(now)
    assert removed == {"probes": 30, "hourly": 1, "daily": 0, "gaps": 1}
    assert Probe.objects.count() == 30


def test_windows_of_many_monitors_match_one_at_a_time(tenant: Tenant, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    from monitoring.rollup import windows
    from tests.factories import RouteFactory

    RouteFactory(domain=tenant.domain)
    sync_monitors()
    today = day_start(timezone.now())
    monitors = list(Monitor.objects.all())
    for n, monitor in enumerate(monitors):
        for days_ago in (2, 1):
            start = today - timedelta(days=days_ago)
            _probes(monitor, start, 30, 90.0 + 300 * n, failures=n)
            rollup_hour(start)
        rollup_day(today - timedelta(days=2))  # day 1 stays in hourly rollups
    with django_assert_num_queries(2):
        many = windows([m.id for m in monitors], today - timedelta(days=3), today)
    for monitor in monitors:
        one = window(monitor, today - timedelta(days=3), today)
        assert many[monitor.id] == one and one.probes == 60


def test_a_window_counts_the_probes_not_rolled_up_yet_once(tenant: Tenant, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    sync_monitors()
    monitor = Monitor.objects.first()
    assert monitor is not None
    now = timezone.now()
    this_hour = hour_start(now)
    _probes(monitor, this_hour - timedelta(hours=1), 60, 100.0)  # the last hour, rolled up whole
    rollup_hour(this_hour - timedelta(hours=1))
    Probe.objects.create(monitor=monitor, at=this_hour, ok=True, latency_ms=100.0)
    rollup_hour(this_hour)  # this hour's rollup, partial: the task rebuilds it every few minutes
    Probe.objects.bulk_create(
        Probe(monitor=monitor, at=max(now - timedelta(seconds=i + 1), this_hour), ok=False, cause="status")
        for i in range(3)
    )
    with django_assert_num_queries(2):
        seen = windows([monitor.id], now - timedelta(days=1), now, now)[monitor.id]
    assert (seen.probes, seen.failures) == (64, 3)
