"""The charts' series: the settled part (days before yesterday, hours before the last one) read once and
kept, growing by what settles as time moves on; the live part read on every request; the two joined
without a gap or an overlap."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from monitoring import histogram
from monitoring.models import Monitor, Rollup
from monitoring.rollup import day_start, hour_start
from monitoring.scheduler import ProbeOutcome, record
from monitoring.series import daily_counts, hourly_p95, settle
from monitoring.summary import settle as settle_uptime
from monitoring.summary import uptime_totals
from tests.conftest import Tenant
from tests.factories import RouteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def monitor(tenant: Tenant) -> Monitor:
    route = RouteFactory(domain=tenant.domain)
    return Monitor.objects.create(client=tenant.client, route=route, url=route.url)


def _hist(latency_ms: float, count: int = 10) -> list[int]:
    hist = histogram.empty()
    for _ in range(count):
        histogram.add(hist, latency_ms)
    return hist


def _probe(monitor: Monitor, at: datetime, ok: bool) -> Monitor:
    """One probe recorded by the scheduler's own code; the monitor as it is then (its tallies)."""
    monitor.refresh_from_db()
    record([monitor], [ProbeOutcome(monitor.id, monitor.next_due_at, at, ok, 200, 90.0, "", "")], at)
    monitor.refresh_from_db()
    return monitor


def test_the_bar_reads_settled_days_once_and_live_days_from_the_tallies(
    monitor: Monitor, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    today = day_start(now)

    def day(days_ago: int, n: int, f: int) -> Rollup:
        start = today - timedelta(days=days_ago)
        return Rollup.objects.create(monitor=monitor, period="day", start=start, probes=n, failures=f)

    day(90, 1, 1)  # before the 90-day window
    settled = day(10, 100, 1)
    day(1, 2, 1)  # yesterday, as the rollup task left it: its probes are the ones counted below
    _probe(monitor, today - timedelta(hours=2), ok=True)
    _probe(monitor, today - timedelta(hours=1), ok=False)
    monitor = _probe(monitor, now, ok=False)
    with django_assert_num_queries(1):  # the settled days; yesterday and today are the monitor's own counts
        series = daily_counts([monitor], now, 90)
    assert series[monitor.id] == [
        (today - timedelta(days=10), 100, 1),
        (today - timedelta(days=1), 2, 1),
        (today, 1, 1),
    ]

    Rollup.objects.filter(pk=settled.pk).update(failures=50)  # never happens to a settled day: proves the cache
    monitor = _probe(monitor, now, ok=True)  # counted at once, no raw probe read
    with django_assert_num_queries(0):
        series = daily_counts([monitor], now, 90)
    assert series[monitor.id] == [
        (today - timedelta(days=10), 100, 1),
        (today - timedelta(days=1), 2, 1),
        (today, 2, 1),
    ]

    # The next day the window moves on by a day: only the day that settled since is read, and added; today's
    # counts are the new yesterday's.
    tomorrow = now + timedelta(days=1)
    with django_assert_num_queries(1):
        series = daily_counts([monitor], tomorrow, 90)
    assert series[monitor.id] == [
        (today - timedelta(days=10), 100, 1),
        (today - timedelta(days=1), 2, 1),
        (today, 2, 1),
    ]


def test_the_line_reads_settled_hours_once_and_live_hours_every_time(
    monitor: Monitor, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    this_hour = hour_start(now)

    def hour(hours_ago: int, latency_ms: float) -> Rollup:
        start = this_hour - timedelta(hours=hours_ago)
        return Rollup.objects.create(
            monitor=monitor, period="hour", start=start, probes=10, failures=0, histogram=_hist(latency_ms)
        )

    hour(48, 9000)  # before the 48-hour window
    settled = hour(5, 120)
    last = hour(1, 120)
    empty = Rollup.objects.create(monitor=monitor, period="hour", start=this_hour, probes=3, failures=3)
    with django_assert_num_queries(2):
        p95s = hourly_p95([monitor.id], now, 48)
    p95_120 = histogram.percentile(_hist(120), 0.95)
    assert p95s[monitor.id] == {this_hour - timedelta(hours=5): p95_120, this_hour - timedelta(hours=1): p95_120}

    Rollup.objects.filter(pk=settled.pk).update(histogram=_hist(4000))  # proves the settled hours come from the cache
    Rollup.objects.filter(pk=last.pk).update(histogram=_hist(900))
    Rollup.objects.filter(pk=empty.pk).update(histogram=_hist(300, 2))
    with django_assert_num_queries(1):
        p95s = hourly_p95([monitor.id], now, 48)
    assert p95s[monitor.id] == {
        this_hour - timedelta(hours=5): p95_120,
        this_hour - timedelta(hours=1): histogram.percentile(_hist(900), 0.95),
        this_hour: histogram.percentile(_hist(300), 0.95),
    }

    # An hour later the last hour has settled: read once (with the new live hours), and kept.
    later = now + timedelta(hours=1)
    with django_assert_num_queries(2):
        p95s = hourly_p95([monitor.id], later, 48)
    assert p95s[monitor.id][this_hour - timedelta(hours=1)] == histogram.percentile(_hist(900), 0.95)
    assert p95s[monitor.id][this_hour - timedelta(hours=5)] == p95_120
    with django_assert_num_queries(1):
        assert hourly_p95([monitor.id], later, 48) == p95s


def test_a_new_monitor_has_empty_series_not_an_error(monitor: Monitor) -> None:
    now = timezone.now()
    assert daily_counts([monitor], now, 90) == {monitor.id: []}
    assert hourly_p95([monitor.id], now, 48) == {monitor.id: {}}


def test_the_rollup_task_puts_what_settled_into_the_cache_before_any_page_asks(
    monitor: Monitor, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    this_hour, today = hour_start(now), day_start(now)
    Rollup.objects.create(monitor=monitor, period="day", start=today - timedelta(days=3), probes=100, failures=1)
    for back in (1, 2, 6):
        start = this_hour - timedelta(hours=back)
        Rollup.objects.create(monitor=monitor, period="hour", start=start, probes=10, histogram=_hist(100 * back))
    monitor = _probe(monitor, now, ok=True)

    assert settle(now, 90, 48) == 1
    assert settle(now, 90, 48) == 0  # nothing more settles until the next hour
    with django_assert_num_queries(0):
        bar = daily_counts([monitor], now, 90)
    with django_assert_num_queries(1):  # this hour and the last one: the live part only
        line = hourly_p95([monitor.id], now, 48)
    assert bar[monitor.id] == [(today - timedelta(days=3), 100, 1), (today, 1, 0)]
    assert set(line[monitor.id]) == {this_hour - timedelta(hours=h) for h in (1, 2, 6)}

    # An hour later the task adds the hour that settled (the last one then), read once for every monitor.
    later = now + timedelta(hours=1)
    assert settle(later, 90, 48) == 1
    Rollup.objects.filter(monitor=monitor, period="hour", start=this_hour - timedelta(hours=1)).update(
        histogram=_hist(5000)
    )  # never happens to a settled hour: proves the page reads the cache
    with django_assert_num_queries(1):
        assert hourly_p95([monitor.id], later, 48)[monitor.id] == line[monitor.id]


def test_the_overview_finds_the_settled_days_summed_by_the_rollup_task(
    monitor: Monitor, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    Rollup.objects.create(monitor=monitor, period="day", start=day_start(now) - timedelta(days=4), probes=1440)
    _probe(monitor, now, ok=False)

    assert settle_uptime(now) == 1
    with django_assert_num_queries(1):  # the monitors' rows with their tallies; no rollup
        [seen] = uptime_totals([monitor.client_id], now).values()
    assert (seen.probes, seen.failures) == (1441, 1)
