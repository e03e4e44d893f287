"""A deploy's p95 per core route, the 24 hours before against the hour after, from real probes rolled up by the
product's rollup code: a regression, a steady deploy, too few probes, the hour not over yet, a route with no
probes, figures stored before the raw probes are pruned, and another client's routes never counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from launchready.formatting import clock
from launchready.models import Route
from monitoring import deploy_latency
from monitoring.deploy_latency import MIN_PROBES, measure, settle
from monitoring.deploys import token_create
from monitoring.models import Deploy, Monitor, Probe, Rollup
from monitoring.rollup import prune
from monitoring.tasks import monitoring_rollup
from reports.weeks import client_zone
from tests.conftest import Tenant
from tests.conftest import login as login_as
from tests.factories import DeployFactory, MonitorFactory, RouteFactory
from tests.monitoring.latency_data import deploy_hours, probe, roll_up

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 15, 40, tzinfo=UTC)
DEPLOYED = datetime(2026, 11, 20, 12, 23, tzinfo=UTC)  # not on the hour: the hours it splits come from raw probes


def around(monitor: Monitor, before: float, after: float, every: int = 60) -> tuple[int, int]:
    """Probes of `before` ms until the deploy and `after` ms from it until NOW; the probes in each window."""
    start, end = DEPLOYED - timedelta(hours=24), DEPLOYED + timedelta(hours=1)
    probe(monitor, start - timedelta(hours=2), DEPLOYED, before, every)  # and some before the window
    probe(monitor, DEPLOYED, NOW, after, every)
    return (
        Probe.objects.filter(monitor=monitor, at__gte=start, at__lt=DEPLOYED).count(),
        Probe.objects.filter(monitor=monitor, at__gte=DEPLOYED, at__lt=end).count(),
    )


def route_monitor(tenant: Tenant, kind: str, interval: int = 60) -> Monitor:
    return MonitorFactory(route=RouteFactory(domain=tenant.domain, kind=kind), interval=interval)


def test_a_route_three_times_slower_after_the_deploy_is_a_regression(tenant: Tenant) -> None:
    login = route_monitor(tenant, Route.Kind.LOGIN)
    before, after = around(login, 90.0, 280.0)
    roll_up(DEPLOYED - timedelta(hours=27), NOW)
    deploy = DeployFactory(client=tenant.client, created=DEPLOYED)
    [route] = measure([deploy], NOW)[deploy.id]
    # Every probe of each window counted once, none of the other window's: the hours split by the window's
    # edges are read from the raw probes, the whole ones from their rollups.
    assert (route.before_probes, route.after_probes) == (before, after) == (24 * 60, 60)
    assert (route.before_p95, route.after_p95) == (100.0, 300.0)  # the buckets 90 ms and 280 ms fall in
    assert route.state == "slower" and route.regressed and route.ratio == 3.0
    assert route.words(UTC) == "p95 100 ms before → 300 ms after, 3.0× slower"
    assert route.label == "Login" and route.url == login.route.display_url


def test_a_route_as_fast_after_the_deploy_is_no_regression(tenant: Tenant) -> None:
    api = route_monitor(tenant, Route.Kind.API_HEALTH)
    around(api, 90.0, 95.0)
    roll_up(DEPLOYED - timedelta(hours=27), NOW)
    deploy = DeployFactory(client=tenant.client, created=DEPLOYED)
    [route] = measure([deploy], NOW)[deploy.id]
    assert (route.before_p95, route.after_p95, route.state, route.regressed) == (100.0, 100.0, "steady", False)
    assert route.words(UTC) == "p95 100 ms before → 100 ms after, steady"


def test_one_slow_probe_among_too_few_is_not_a_regression(tenant: Tenant) -> None:
    # Every five minutes: twelve probes in the hour after, and the p95 of twelve is the slowest of them.
    checkout = route_monitor(tenant, Route.Kind.CHECKOUT, interval=300)
    around(checkout, 90.0, 90.0, every=300)
    Probe.objects.filter(monitor=checkout, at=DEPLOYED + timedelta(minutes=30)).update(latency_ms=2400.0)
    roll_up(DEPLOYED - timedelta(hours=27), NOW)
    deploy = DeployFactory(client=tenant.client, created=DEPLOYED)
    [route] = measure([deploy], NOW)[deploy.id]
    assert route.after_probes == 12 < MIN_PROBES and route.after_p95 == 2500.0
    assert route.state == "too_few" and not route.regressed and route.ratio == 25.0
    assert route.words(UTC) == f"too few probes to tell (12 in the hour after, {MIN_PROBES} needed)"


def test_the_hour_not_over_yet_says_until_when_it_is_measured(tenant: Tenant) -> None:
    login = route_monitor(tenant, Route.Kind.LOGIN)
    around(login, 90.0, 900.0)
    now = DEPLOYED + timedelta(minutes=25)
    Probe.objects.filter(at__gte=now).delete()
    roll_up(DEPLOYED - timedelta(hours=27), now)
    deploy = DeployFactory(client=tenant.client, created=DEPLOYED)
    [route] = measure([deploy], now)[deploy.id]
    assert route.state == "measuring" and route.after_p95 is None and not route.regressed
    assert route.measuring_until == DEPLOYED + timedelta(hours=1)
    assert route.words(ZoneInfo("Europe/Berlin")) == "p95 100 ms before; measuring until 14:23"
    assert settle(now) == 0 and Deploy.objects.get().latency is None  # nothing stored before the hour is over


def test_a_route_with_no_probes_says_so_and_only_core_routes_count(tenant: Tenant) -> None:
    dashboard = route_monitor(tenant, Route.Kind.DASHBOARD)
    homepage = route_monitor(tenant, Route.Kind.HOMEPAGE)
    around(homepage, 90.0, 900.0)
    roll_up(DEPLOYED - timedelta(hours=27), NOW)
    deploy = DeployFactory(client=tenant.client, created=DEPLOYED)
    [route] = measure([deploy], NOW)[deploy.id]
    assert route.monitor_id == dashboard.id
    assert (route.state, route.before_p95, route.after_p95) == ("no_probes", None, None)
    assert route.words(UTC) == "no probes around the deploy"


def test_another_clients_routes_never_count(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = route_monitor(tenant, Route.Kind.LOGIN)
    theirs = route_monitor(other_tenant, Route.Kind.LOGIN)
    around(mine, 90.0, 90.0)
    around(theirs, 90.0, 5000.0)
    roll_up(DEPLOYED - timedelta(hours=27), NOW)
    deploy = DeployFactory(client=tenant.client, created=DEPLOYED)
    [route] = measure([deploy], NOW)[deploy.id]
    assert route.monitor_id == mine.id and route.state == "steady"


def test_deploys_are_measured_in_two_queries_and_stored_before_the_probes_go(
    tenant: Tenant, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    login = route_monitor(tenant, Route.Kind.LOGIN)
    checkout = route_monitor(tenant, Route.Kind.CHECKOUT)
    route_monitor(tenant, Route.Kind.AUTH_CALLBACK)  # no probes
    around(login, 90.0, 280.0)
    around(checkout, 180.0, 190.0)
    roll_up(DEPLOYED - timedelta(hours=27), NOW)
    # Three deploys whose windows overlap: each counts each probe of its own windows once.
    deploys = [DeployFactory(client=tenant.client, created=DEPLOYED + timedelta(minutes=m)) for m in (-70, -25, 0)]
    with django_assert_max_num_queries(2):
        measured = measure(deploys, NOW)
    for deploy in deploys:
        start, end = deploy.created - timedelta(hours=24), deploy.created + timedelta(hours=1)
        for monitor in (login, checkout):
            row = next(r for r in measured[deploy.id] if r.monitor_id == monitor.id)
            n_before = Probe.objects.filter(monitor=monitor, at__gte=start, at__lt=deploy.created).count()
            n_after = Probe.objects.filter(monitor=monitor, at__gte=deploy.created, at__lt=end).count()
            assert (row.before_probes, row.after_probes) == (n_before, n_after)
    assert [r.kind for r in measured[deploys[2].id]] == ["login", "checkout", "auth_callback"]
    assert [r.state for r in measured[deploys[2].id]] == ["slower", "steady", "no_probes"]

    assert settle(NOW) == 3
    stored = {d.id: d for d in Deploy.objects.all()}
    # Two days on, the raw probes are pruned and the split hours are gone: the stored figures stay.
    later = NOW + timedelta(days=3)
    prune(later)
    assert not Probe.objects.exists() and Rollup.objects.exists()
    with django_assert_max_num_queries(0):
        again = measure(list(stored.values()), later)
    for deploy in deploys:
        assert [(r.before_p95, r.after_p95, r.state) for r in again[deploy.id]] == [
            (r.before_p95, r.after_p95, r.state) for r in measured[deploy.id]
        ]
    assert settle(later) == 0


def test_a_deploy_never_stored_whose_probes_are_gone_is_not_guessed(tenant: Tenant) -> None:
    login = route_monitor(tenant, Route.Kind.LOGIN)
    around(login, 90.0, 280.0)
    roll_up(DEPLOYED - timedelta(hours=27), NOW)
    deploy = DeployFactory(client=tenant.client, created=DEPLOYED)
    later = NOW + timedelta(days=3)
    prune(later)
    [route] = measure([deploy], later)[deploy.id]
    assert route.state == "not_kept" and not route.regressed and route.ratio is None
    assert route.words(UTC) == "not measured: the probes of that hour are no longer kept"
    assert deploy_latency.settle(later) == 0  # too late to store: it stays unmeasured rather than wrong


def _recent(tenant: Tenant) -> tuple[Monitor, Deploy, Deploy]:
    """A login route three times slower since a deploy two hours ago, and a deploy twenty minutes ago."""
    now = timezone.now()
    login = MonitorFactory(route=tenant.route)
    slow = DeployFactory(client=tenant.client, created=now - timedelta(hours=2), version="v2.0.0")
    deploy_hours(login, slow.created, 90.0, 280.0, now)
    fresh = DeployFactory(client=tenant.client, created=now - timedelta(minutes=20), version="v2.0.1")
    return login, slow, fresh


def test_the_deploys_page_shows_each_routes_p95_before_and_after(tenant: Tenant, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    login, slow, fresh = _recent(tenant)
    for n in range(5):  # older deploys never stored whose probes are pruned: the page's queries stay the same
        DeployFactory(client=tenant.client, created=slow.created - timedelta(days=2 + n))
    browser = login_as(tenant.consultant)
    url = reverse("deploy_tokens", args=[tenant.client.code])
    with django_assert_max_num_queries(9):  # the latency of all seven deploys: two of them
        page = browser.get(url).content.decode()
    assert "p95 the day before → the hour after" in page
    assert "p95 100 ms before → 300 ms after, 3.0× slower" in page and "1 route slower since" in page
    until = clock(fresh.created + timedelta(hours=1), client_zone(tenant.client))
    # The day before the later deploy holds the slow hours since the first one: its p95 is theirs.
    assert f"p95 300 ms before; measuring until {until}" in page
    assert login.route.display_url in page
    assert page.count("not measured: the probes of that hour are no longer kept") == 5


def test_the_api_answers_each_routes_p95_beside_the_verdict(tenant: Tenant) -> None:
    _, slow, fresh = _recent(tenant)
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)

    def answer(deploy: Deploy) -> Any:
        url = reverse("api_deploy_detail", args=[str(deploy.code)])
        return HttpClient().get(url, headers={"Authorization": f"Bearer {value}"}).json()

    body = answer(slow)
    assert (body["deploy"], body["state"], body["version"], body["failing"]) == (str(slow.code), "passed", "v2.0.0", [])
    [route] = body["latency"]
    assert route["route"] == "Login" and route["kind"] == "login" and route["url"] == tenant.route.display_url
    assert (route["p95_before_ms"], route["p95_after_ms"], route["ratio"]) == (100.0, 300.0, 3.0)
    assert route["probes_before"] == 24 * 60 and route["probes_after"] == 60
    assert route["state"] == "slower" and route["slower"] is True and route["measuring_until"] is None
    [measuring] = answer(fresh)["latency"]
    assert measuring["state"] == "measuring" and measuring["p95_after_ms"] is None and not measuring["slower"]
    assert measuring["measuring_until"] == (fresh.created + timedelta(hours=1)).isoformat()


def test_the_rollup_task_stores_the_figures_once_the_hour_after_is_over(tenant: Tenant) -> None:
    now = timezone.now()
    login = MonitorFactory(route=tenant.route)
    over = DeployFactory(client=tenant.client, created=now - timedelta(minutes=70))
    going = DeployFactory(client=tenant.client, created=now - timedelta(minutes=30))
    deploy_hours(login, over.created, 90.0, 280.0, now)
    monitoring_rollup()
    over.refresh_from_db()
    going.refresh_from_db()
    assert going.latency is None  # still measuring
    [stored] = over.latency["routes"]
    assert (stored["label"], stored["before_p95"], stored["after_p95"]) == ("Login", 100.0, 300.0)
    assert (stored["before_probes"], stored["after_probes"]) == (24 * 60, 60)
