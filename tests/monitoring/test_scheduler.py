"""The probe scheduler on the sandbox: claims are exclusive, probes record their cause, and a monitor goes
down after two failures and up after two successes, with one incident and its timeline."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from launchready.models import Route
from launchready.sandbox.runner import Sandbox
from monitoring.models import Incident, IncidentEvent, Monitor, Probe
from monitoring.scheduler import claim_due, probe_round, record, sync_monitors, tick
from tests.conftest import Tenant
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db


def _monitor(tenant: Tenant, apex: str, host: str, path: str, **kwargs: object) -> Monitor:
    domain = DomainFactory(client=tenant.client, name=apex)
    route = Route.objects.create(domain=domain, host=host, path=path, kind=Route.Kind.LOGIN, expected_statuses=[200])
    return Monitor.objects.create(client=tenant.client, route=route, url=route.url, expected_statuses=[200], **kwargs)


def _round(sandbox: Sandbox, at: timezone.datetime) -> list[Monitor]:  # type: ignore[name-defined]
    monitors = claim_due(at)
    outcomes = asyncio.run(probe_round(monitors, sandbox.net_config()))
    record(monitors, outcomes, at)
    return monitors


def test_every_route_gets_a_monitor(tenant: Tenant) -> None:
    assert sync_monitors() == 1
    monitor = Monitor.objects.get(route=tenant.route)
    assert monitor.url == tenant.route.url and monitor.client == tenant.client
    assert sync_monitors() == 0


def test_a_claimed_monitor_is_invisible_to_a_second_claim(tenant: Tenant) -> None:
    sync_monitors()
    now = timezone.now()
    assert [m.route_id for m in claim_due(now)] == [tenant.route.id]
    assert claim_due(now) == []  # a second worker, the same instant
    assert len(claim_due(now + timedelta(minutes=2))) == 1  # the lease of a dead worker expires


def test_probes_record_status_latency_and_cause(world_sandbox: Sandbox, tenant: Tenant) -> None:
    healthy = _monitor(tenant, "launch-ready.test", "app", "/login", keyword="Sign in")
    broken = _monitor(tenant, "login-500.test", "app", "/login")
    missing = _monitor(tenant, "missing-app.test", "app", "/login")
    _round(world_sandbox, timezone.now())
    probes = {p.monitor_id: p for p in Probe.objects.all()}
    assert probes[healthy.id].ok and probes[healthy.id].status == 200 and probes[healthy.id].latency_ms > 0
    assert (probes[broken.id].ok, probes[broken.id].cause, probes[broken.id].status) == (False, "status", 500)
    assert (probes[missing.id].ok, probes[missing.id].cause) == (False, "dns")
    healthy.refresh_from_db()
    assert healthy.state == Monitor.State.UP and healthy.claimed_until is None
    assert healthy.next_due_at > timezone.now()


def test_two_failures_open_one_incident_and_two_successes_close_it(world_sandbox: Sandbox, tenant: Tenant) -> None:
    monitor = _monitor(tenant, "launch-ready.test", "app", "/login")
    start = timezone.now()
    _round(world_sandbox, start)
    # The outage: the route starts answering 500.
    Monitor.objects.filter(pk=monitor.pk).update(url="https://app.login-500.test/login", next_due_at=start)
    _round(world_sandbox, start + timedelta(minutes=1))
    monitor.refresh_from_db()
    assert monitor.state == Monitor.State.UP and monitor.consecutive_failures == 1  # one failure is not an outage
    _round(world_sandbox, start + timedelta(minutes=2))
    monitor.refresh_from_db()
    assert monitor.state == Monitor.State.DOWN
    _round(world_sandbox, start + timedelta(minutes=3))
    assert Incident.objects.count() == 1  # still one incident on the third failure
    Monitor.objects.filter(pk=monitor.pk).update(url="https://app.launch-ready.test/login")  # fixed
    _round(world_sandbox, start + timedelta(minutes=4))
    monitor.refresh_from_db()
    assert monitor.state == Monitor.State.DOWN  # one success is not a recovery
    _round(world_sandbox, start + timedelta(minutes=5))
    monitor.refresh_from_db()
    incident = Incident.objects.get()
    assert monitor.state == Monitor.State.UP and incident.ended_at is not None
    assert incident.cause == Monitor.Cause.STATUS and "500" in incident.detail
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds == [  # the client has no alert channel: the timeline says nobody was told, each time
        IncidentEvent.Kind.FIRST_FAILURE,
        IncidentEvent.Kind.OPENED,
        IncidentEvent.Kind.NO_CHANNEL,
        IncidentEvent.Kind.RECOVERED,
        IncidentEvent.Kind.NO_CHANNEL,
    ]


def test_a_paused_monitor_is_not_probed(tenant: Tenant) -> None:
    sync_monitors()
    Monitor.objects.update(paused=True)
    assert claim_due(timezone.now() + timedelta(hours=1)) == []


def test_a_route_slower_than_its_budget_fails_as_slow(world_sandbox: Sandbox, tenant: Tenant) -> None:
    slow = _monitor(tenant, "slow-login.test", "app", "/login", latency_budget_ms=1000, timeout=5)
    _round(world_sandbox, timezone.now())
    probe = Probe.objects.get(monitor=slow)
    assert (probe.ok, probe.cause) == (False, "slow") and probe.latency_ms > 1000


def test_a_tick_claims_what_falls_due_before_the_next_beat_and_probes_it_on_time(
    world_sandbox: Sandbox, tenant: Tenant
) -> None:
    now = timezone.now()
    soon, later = (
        _monitor(tenant, apex, "app", "/login", next_due_at=now + timedelta(seconds=due))
        for apex, due in (("launch-ready.test", 1), ("login-500.test", 30))
    )
    assert tick(now, world_sandbox.net_config(), lookahead=3) == 1
    probe = Probe.objects.get()
    assert probe.monitor_id == soon.id and probe.ok
    assert probe.at >= soon.next_due_at  # waited for its due second rather than probing early
    assert probe.lag_ms < 1000
    later.refresh_from_db()
    assert later.last_checked_at is None and later.claimed_until is None  # beyond the lookahead: untouched


def test_the_probe_round_saves_every_monitors_state_in_a_bounded_number_of_queries(
    world_sandbox: Sandbox, tenant: Tenant, django_assert_max_num_queries: object
) -> None:
    domain = DomainFactory(client=tenant.client, name="launch-ready.test")
    monitors = [
        Monitor.objects.create(client=tenant.client, route=route, url=route.url, expected_statuses=[200])
        for route in (
            Route.objects.create(domain=domain, host="app", path=f"/login?n={n}", kind=Route.Kind.LOGIN)
            for n in range(30)
        )
    ]
    claimed = claim_due(timezone.now())
    outcomes = asyncio.run(probe_round(claimed, world_sandbox.net_config()))
    with django_assert_max_num_queries(4):  # type: ignore[operator]
        record(claimed, outcomes, timezone.now())
    states = set(Monitor.objects.filter(id__in=[m.id for m in monitors]).values_list("state", "claimed_until"))
    assert states == {(Monitor.State.UP, None)}
