"""The charts' series: the settled part (days before yesterday, hours before the last one) read once and
kept, growing by what settles as time moves on; the live part read on every request; the two joined
without a gap or an overlap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring import histogram
from monitoring.models import Monitor, Probe, Rollup
from monitoring.rollup import day_start, hour_start
from monitoring.series import daily_counts, hourly_p95
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


def test_the_bar_reads_settled_days_once_and_live_days_every_time(monitor: Monitor, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    today = day_start(now)

    def day(days_ago: int, n: int, f: int) -> Rollup:
        start = today - timedelta(days=days_ago)
        return Rollup.objects.create(monitor=monitor, period="day", start=start, probes=n, failures=f)

    day(90, 1, 1)  # before the 90-day window
    settled = day(10, 100, 1)
    yesterday = day(1, 100, 2)
    Probe.objects.create(monitor=monitor, at=now, ok=False)
    with django_assert_num_queries(3):  # settled days, yesterday, today's raw probes
        series = daily_counts([monitor.id], now, 90)
    assert series[monitor.id] == [
        (today - timedelta(days=10), 100, 1),
        (today - timedelta(days=1), 100, 2),
        (today, 1, 1),
    ]

    Rollup.objects.filter(pk=settled.pk).update(failures=50)  # never happens to a settled day: proves the cache
    Rollup.objects.filter(pk=yesterday.pk).update(failures=3)  # the rollup task rebuilt yesterday
    Probe.objects.create(monitor=monitor, at=now, ok=True)
    with django_assert_num_queries(2):
        series = daily_counts([monitor.id], now, 90)
    assert series[monitor.id] == [
        (today - timedelta(days=10), 100, 1),
        (today - timedelta(days=1), 100, 3),
        (today, 2, 1),
    ]

    # The next day the window moves on by a day: only the day that settled since is read, and added.
    Rollup.objects.filter(pk=yesterday.pk).update(failures=4)
    tomorrow = now + timedelta(days=1)
    with django_assert_num_queries(3):  # the day that settled, the new yesterday, the new today's probes
        series = daily_counts([monitor.id], tomorrow, 90)
    assert series[monitor.id] == [(today - timedelta(days=10), 100, 1), (today - timedelta(days=1), 100, 4)]


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
    assert daily_counts([monitor.id], now, 90) == {monitor.id: []}
    assert hourly_p95([monitor.id], now, 48) == {monitor.id: {}}
