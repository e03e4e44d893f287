"""The overview's 30-day uptime per client: settled days summed once and cached, the two live days read
every time, so the page's cost does not grow with the days of history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from launchready.formatting import Observed
from monitoring.models import Monitor, Probe, Rollup
from monitoring.rollup import day_start, hour_start
from monitoring.summary import uptime_totals
from tests.conftest import Tenant
from tests.factories import RouteFactory

pytestmark = pytest.mark.django_db


def _daily(monitor: Monitor, days_ago: int, probes: int, failures: int) -> Rollup:
    start = day_start(timezone.now()) - timedelta(days=days_ago)
    return Rollup.objects.create(monitor=monitor, period="day", start=start, probes=probes, failures=failures)


def _counts(totals: dict[int, Observed]) -> dict[int, tuple[int, int]]:
    return {cid: (o.probes, o.failures) for cid, o in totals.items()}


def _this_hour(monitor: Monitor, probes: int, failures: int) -> None:
    """The hour still going, as the rollup task leaves it: its raw probes, and a rollup of some of them."""
    now = timezone.now()
    Probe.objects.bulk_create(
        Probe(monitor=monitor, at=max(now - timedelta(seconds=i), hour_start(now)), ok=i >= failures, latency_ms=100.0)
        for i in range(probes)
    )
    Rollup.objects.create(monitor=monitor, period="hour", start=hour_start(now), probes=1, failures=0)


def test_settled_days_are_summed_once_and_live_days_every_time(
    tenant: Tenant, other_tenant: Tenant, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    route = RouteFactory(domain=tenant.domain)
    monitor = Monitor.objects.create(client=tenant.client, route=route, url=route.url)
    settled = _daily(monitor, 10, 1000, 10)
    _daily(monitor, 29, 1000, 0)  # the window's first day
    _daily(monitor, 30, 1000, 1000)  # a day before the window: not counted
    yesterday = _daily(monitor, 1, 1000, 5)
    _this_hour(monitor, 5, 0)  # today: read from the raw probes, the partial rollup of this hour is not counted
    now = timezone.now()
    ids = [tenant.client.id, other_tenant.client.id]

    with django_assert_num_queries(4):  # the settled sums of both clients, then their monitors and the live days
        assert _counts(uptime_totals(ids, now)) == {tenant.client.id: (3005, 15)}

    # The rollup task rebuilds yesterday and today: seen at once. Settled days are not rebuilt: read from the cache.
    Rollup.objects.filter(pk=yesterday.pk).update(failures=105)
    Rollup.objects.filter(pk=settled.pk).update(failures=999)
    with django_assert_num_queries(3):
        assert _counts(uptime_totals(ids, now)) == {tenant.client.id: (3005, 115)}

    # The next day the window moves on: its settled sum is computed afresh.
    assert _counts(uptime_totals(ids, now + timedelta(days=1))) == {tenant.client.id: (2005, 1104)}


def test_a_failure_not_rolled_up_yet_is_counted_at_once(tenant: Tenant) -> None:
    route = RouteFactory(domain=tenant.domain)
    monitor = Monitor.objects.create(client=tenant.client, route=route, url=route.url)
    _daily(monitor, 1, 1000, 0)
    _this_hour(monitor, 4, 3)

    [seen] = uptime_totals([tenant.client.id], timezone.now()).values()

    assert (seen.probes, seen.failures) == (1004, 3) and seen.uptime is not None and seen.uptime < 100


def test_a_client_without_rollups_has_no_uptime_rather_than_zero(tenant: Tenant) -> None:
    assert uptime_totals([tenant.client.id], timezone.now()) == {}
