"""The overview's 30-day uptime per client: settled days summed once and cached, the two live days from each
monitor's tallies, so the page's cost does not grow with the days of history or the hour of the day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from launchready.formatting import Observed
from monitoring.models import Monitor, Probe, Rollup
from monitoring.rollup import day_start, hour_start
from monitoring.scheduler import ProbeOutcome, record
from monitoring.summary import uptime_totals
from monitoring.tallies import recount
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


def _probe(monitor: Monitor, ok: bool) -> None:
    """One probe recorded by the scheduler's own code, as a probe round records it."""
    now = timezone.now()
    monitor.refresh_from_db()
    outcome = ProbeOutcome(monitor.id, monitor.next_due_at, now, ok, 200 if ok else 500, 90.0, "", "")
    record([monitor], [outcome], now)


def test_settled_days_are_summed_once_and_live_days_every_time(
    tenant: Tenant, other_tenant: Tenant, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    route = RouteFactory(domain=tenant.domain)
    monitor = Monitor.objects.create(client=tenant.client, route=route, url=route.url)
    settled = _daily(monitor, 10, 1000, 10)
    _daily(monitor, 29, 1000, 0)  # the window's first day
    _daily(monitor, 30, 1000, 1000)  # a day before the window: not counted
    _daily(monitor, 1, 1000, 5)
    _this_hour(monitor, 5, 0)  # today: the raw probes count, the partial rollup of this hour does not
    recount([monitor.id])  # recorded before the monitor's tallies were kept
    now = timezone.now()
    ids = [tenant.client.id, other_tenant.client.id]

    with django_assert_num_queries(2):  # the settled sums of both clients, then their monitors' tallies
        assert _counts(uptime_totals(ids, now)) == {tenant.client.id: (3005, 15)}

    # A probe recorded now counts at once; the settled days are not rebuilt: read from the cache.
    _probe(monitor, ok=False)
    Rollup.objects.filter(pk=settled.pk).update(failures=999)
    with django_assert_num_queries(1):
        assert _counts(uptime_totals(ids, timezone.now())) == {tenant.client.id: (3006, 16)}

    # The next day the window moves on: its settled sum is computed afresh (the old first day out, yesterday's
    # rollup and the one changed above in), and today's tallies are the new yesterday's.
    assert _counts(uptime_totals(ids, now + timedelta(days=1))) == {tenant.client.id: (2006, 1005)}


def test_a_failure_just_recorded_is_counted_at_once(tenant: Tenant) -> None:
    route = RouteFactory(domain=tenant.domain)
    monitor = Monitor.objects.create(client=tenant.client, route=route, url=route.url)
    _daily(monitor, 1, 1000, 0)
    _this_hour(monitor, 0, 0)
    recount([monitor.id])
    for ok in (True, False, False, False):
        _probe(monitor, ok)

    [seen] = uptime_totals([tenant.client.id], timezone.now()).values()

    assert (seen.probes, seen.failures) == (1004, 3) and seen.uptime is not None and seen.uptime < 100


def test_a_client_without_rollups_has_no_uptime_rather_than_zero(tenant: Tenant) -> None:
    assert uptime_totals([tenant.client.id], timezone.now()) == {}
