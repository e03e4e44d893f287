"""Monitoring pages: per-route status with uptime bars and p95 lines, incidents, down first; founders see
their own; query counts do not grow with the number of monitors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Incident, IncidentEvent, Monitor, Rollup
from monitoring.rollup import day_start, hour_start
from monitoring.tallies import recount
from tests.conftest import Tenant, login
from tests.factories import RouteFactory

pytestmark = pytest.mark.django_db


def _monitors(tenant: Tenant, count: int) -> list[Monitor]:
    monitors = []
    for i in range(count):
        route = RouteFactory(domain=tenant.domain)
        monitor = Monitor.objects.create(
            client=tenant.client, route=route, url=route.url, state=Monitor.State.DOWN if i == 0 else Monitor.State.UP
        )
        now = timezone.now()
        Rollup.objects.create(
            monitor=monitor,
            period="day",
            start=day_start(now) - timedelta(days=1),
            probes=1440,
            failures=3,
            histogram=[0, 0, 0, 0, 0, 1440],
        )
        Rollup.objects.create(
            monitor=monitor, period="hour", start=hour_start(now), probes=60, failures=0, histogram=[0, 0, 0, 0, 0, 60]
        )
        monitors.append(monitor)
    recount([m.id for m in monitors])  # the live days' counts, as the recorder would have kept them
    return monitors


@pytest.mark.parametrize("count", [2, 12])
def test_the_client_page_shows_each_route_and_stays_cheap(
    tenant: Tenant, count: int, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    monitors = _monitors(tenant, count)
    incident = Incident.objects.create(
        monitor=monitors[0], started_at=timezone.now(), cause="status", detail="answered 500"
    )
    IncidentEvent.objects.create(incident=incident, kind="opened", detail="2 failures in a row")
    http = login(tenant.consultant)
    with django_assert_max_num_queries(15):  # the monitors, and a query each for heartbeats and journeys
        page = http.get(reverse("client_monitoring", args=[tenant.client.code])).content.decode()
    assert page.count('class="monitor"') == count
    assert page.index('badge-stop">Down') < page.index('badge-go">Up')  # what is down comes first
    # One path per colour of the bar (the days 99% to 99.9% up, those without data), not one shape per day.
    assert page.count('class="uptime-bar"') == count and "<rect" not in page
    yesterday = day_start(timezone.now()) - timedelta(days=1)
    assert page.count(f"99% to 99.9% up, 1 day: {yesterday:%d %b}: 99.79% up</title>") == count
    assert page.count('aria-label="Uptime by day, last 90 days: 99% to 99.9% up, 1 day; no data, 89 days"') == count
    assert "99.79%" in page  # 1437 of 1440 probes up
    assert "answered 500" in page and "Marked down" in page


@pytest.mark.parametrize("clients", [1, 8])
def test_the_overview_puts_what_is_down_first_and_one_line_per_client(
    tenant: Tenant, other_tenant: Tenant, clients: int, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import ClientFactory, DomainFactory

    _monitors(tenant, 3)  # one of them down
    for n in range(clients - 1):  # more clients of the same workspace, all up
        extra = ClientFactory(workspace=tenant.client.workspace, name=f"Zeta {n}")
        route = RouteFactory(domain=DomainFactory(client=extra))
        Monitor.objects.create(client=extra, route=route, url=route.url, state=Monitor.State.UP)
    _monitors(other_tenant, 1)  # another workspace's outage is not ours to see
    http = login(tenant.consultant)
    with django_assert_max_num_queries(9):  # the same for 1 client or 8: one status row and monitor rows each
        page = http.get(reverse("monitoring_overview")).content.decode()
    assert "1 route down right now" in page
    assert page.count('class="client-summary"') == clients
    assert (
        page.index(tenant.client.name) < page.index("Zeta") if clients > 1 else True
    )  # the one with a route down first
    assert other_tenant.client.name not in page
    assert "99.79%" in page  # 3 of the day's 1440 probes failed on each route: 4317 of 4320 up


def test_a_founder_sees_their_monitors_but_cannot_pause_them(tenant: Tenant) -> None:
    (monitor,) = _monitors(tenant, 1)
    http = login(tenant.founder)
    assert http.get(reverse("client_monitoring", args=[tenant.client.code])).status_code == 200
    assert http.get(reverse("monitoring_overview")).status_code == 404
    assert http.post(reverse("monitor_pause", args=[monitor.code]), {"pause": "1"}).status_code == 403
    login(tenant.consultant).post(reverse("monitor_pause", args=[monitor.code]), {"pause": "1"})
    monitor.refresh_from_db()
    assert monitor.paused


def test_a_monitor_is_edited_with_sane_bounds(tenant: Tenant) -> None:
    (monitor,) = _monitors(tenant, 1)
    http = login(tenant.consultant)
    url = reverse("monitor_edit", args=[monitor.code])
    bad = http.post(url, {"interval": 5, "timeout": 1, "latency_budget_ms": 5000, "alert_after": 0, "recover_after": 2})
    page = bad.content.decode()
    assert "Ensure this value is greater than or equal to 30" in page
    assert "The timeout must be longer than the latency budget" in page and "Between 1 and 10" in page
    http.post(url, {"interval": 120, "timeout": 10, "latency_budget_ms": 1500, "alert_after": 3, "recover_after": 2})
    monitor.refresh_from_db()
    assert (monitor.interval, monitor.alert_after, monitor.latency_budget_ms) == (120, 3, 1500)
    assert login(tenant.founder).get(url).status_code == 403


def test_today_shows_at_once_from_the_probes_recorded(tenant: Tenant) -> None:
    from monitoring.scheduler import ProbeOutcome, record

    (monitor,) = _monitors(tenant, 1)
    for i in range(4):
        monitor.refresh_from_db()
        now = timezone.now()
        record([monitor], [ProbeOutcome(monitor.id, monitor.next_due_at, now, i != 0, 200, 90.0, "", "")], now)
    page = login(tenant.consultant).get(reverse("client_monitoring", args=[tenant.client.code])).content.decode()
    assert f"under 95% up, 1 day: {timezone.now():%d %b}: 75% up" in page


def test_the_overview_pages_its_client_lines_down_first(tenant: Tenant, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    from monitoring.summary import OVERVIEW_PAGE_SIZE
    from tests.factories import ClientFactory, DomainFactory

    for n in range(OVERVIEW_PAGE_SIZE + 4):
        extra = ClientFactory(workspace=tenant.client.workspace, name=f"Zeta {n:02d}")
        route = RouteFactory(domain=DomainFactory(client=extra))
        state = Monitor.State.DOWN if n == OVERVIEW_PAGE_SIZE + 3 else Monitor.State.UP
        Monitor.objects.create(client=extra, route=route, url=route.url, state=state)
    http = login(tenant.consultant)
    with django_assert_max_num_queries(9):
        first = http.get(reverse("monitoring_overview")).content.decode()
    lines = first.split('class="client-summary"')[1:]
    assert len(lines) == OVERVIEW_PAGE_SIZE
    assert f"Zeta {OVERVIEW_PAGE_SIZE + 3:02d}" in lines[0]  # the last by name, first for its route down
    assert f"Clients 1–{OVERVIEW_PAGE_SIZE} of {OVERVIEW_PAGE_SIZE + 4}" in first
    second = http.get(reverse("monitoring_overview") + "?page=2", headers={"HX-Request": "true"}).content.decode()
    assert second.count('class="client-summary"') == 4 and 'hx-get="/monitoring/?page=2"' in second


@pytest.mark.django_db
def test_incident_times_are_in_the_clients_time_zone_and_say_so(tenant: Tenant) -> None:
    tenant.client.timezone = "Europe/Berlin"
    tenant.client.save()
    monitor = Monitor.objects.create(client=tenant.client, route=tenant.route, url=tenant.route.url)
    at = datetime(2026, 12, 1, 21, 3, 22, tzinfo=UTC)
    incident = Incident.objects.create(monitor=monitor, started_at=at, cause="status")
    IncidentEvent.objects.create(incident=incident, at=at, kind=IncidentEvent.Kind.OPENED)
    page = login(tenant.consultant).get(reverse("client_monitoring", args=[tenant.client.code])).content.decode()
    assert "1 Dec 22:03:22 CET" in page and "Times in Europe/Berlin" in page
