"""The weekly report's facts: uptime and p95 per route from the real rollups with the trend against the
week before, outages, alerts, certificates, drift, findings fixed and new, deploys and next steps; and
a query count that does not grow with the history."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from audits.models import AuditFinding
from launchready.formatting import duration, latency, percent
from monitoring.models import Monitor
from monitoring.rollup import window
from reports.weekly import build_report, build_reports
from reports.weeks import period_for, week_of
from tests.conftest import Tenant, make_tenant
from tests.reports.report_data import WEEK, add_routes, history, week_events

pytestmark = pytest.mark.django_db


def _now(tenant: Tenant) -> datetime:
    return period_for(tenant.client, WEEK).end + timedelta(hours=9)


def test_it_reports_uptime_and_p95_per_route_from_the_rollups(tenant: Tenant) -> None:
    add_routes(tenant.domain)
    period = history(tenant.client)
    data = build_report(tenant.client, WEEK, now=_now(tenant))
    monitors = {m.route.display_url: m for m in Monitor.objects.select_related("route__domain")}
    assert len(data["routes"]) == 3
    for row in data["routes"]:
        monitor = monitors[row["url"]]
        expected = window(monitor, period.start, period.end)
        before = window(monitor, period.start - timedelta(days=7), period.start)
        assert row["probes"] == expected.probes == 7 * 2 * 20
        assert row["uptime_value"] == pytest.approx(expected.uptime)
        assert row["p95_value"] == expected.percentile(0.95)
        assert row["p95_last_week_value"] == before.percentile(0.95) == 100.0  # 80 ms falls in the 100 ms bucket
    first = min(monitors.values(), key=lambda m: m.id)
    slow = next(r for r in data["routes"] if r["url"] == first.route.display_url)
    assert slow["failures"] == 14 and slow["uptime"] == "95%"  # one failure in twenty, every hour
    assert slow["p95_value"] == 500.0 and slow["trend"] == "slower"
    assert "+400%" in slow["trend_text"]
    fast = [r for r in data["routes"] if r is not slow]
    assert all(r["uptime"] == "100%" and r["p95"] == "100 ms" and r["trend"] == "steady" for r in fast)
    assert [r["kind"] for r in data["routes"]] == ["Homepage", "Login", "API health"]
    assert data["summary"]["uptime_value"] == pytest.approx(100 * (840 - 14) / 840)
    assert data["week"]["label"] == "9–15 November 2026" and data["week"]["number"] == 46


def test_it_tells_the_weeks_events(tenant: Tenant) -> None:
    period = history(tenant.client)
    week_events(tenant.client, tenant.domain, period)
    data = build_report(tenant.client, WEEK, now=_now(tenant))
    [incident] = data["incidents"]
    assert incident["duration"] == "14 min" and incident["cause"] == "Timeout"
    assert incident["started"] == "Tue 10 Nov 14:02" and incident["ended"] == "14:16"
    assert data["summary"]["downtime"] == "14 min"
    assert data["alerts"] == [{"label": "Down", "count": 1}, {"label": "Recovered", "count": 1}]
    assert data["summary"]["alerts"] == 2
    [cert] = data["certificates"]
    expires = datetime.fromisoformat(AuditFinding.objects.get(check_id="tls.certificate").evidence["not_after"])
    assert cert["host"] == f"www.{tenant.domain.name}" and cert["level"] == "ok"
    assert cert["days"] == int((expires - _now(tenant)).total_seconds() // 86400) >= 40
    assert [d["title"] for d in data["drift"]] == [
        f"DNS records of {tenant.domain.name} changed since the approved baseline"
    ]
    assert [f["title"] for f in data["fixed"]] == ["No DMARC record"]
    assert [f["title"] for f in data["new"]] == ["The app serves its .env file", "HSTS is not set on app"]
    [deploy] = data["deploys"]
    assert deploy["version"] == "v1.4.2" and deploy["smoke"] == "failed"
    assert deploy["failing"] == ["https://app.example/login: answered 502"]
    assert [s["title"] for s in data["next_steps"]] == ["The app serves its .env file", "HSTS is not set on app"]
    assert data["summary"]["go"] is False and data["summary"]["blockers"] == 1


def test_a_client_with_nothing_yet_gets_a_report_that_says_so(tenant: Tenant) -> None:
    data = build_report(tenant.client, WEEK, now=_now(tenant))
    assert data["summary"]["headline"] == "Monitoring had no results for this week yet."
    assert data["summary"]["go"] is None
    assert data["routes"] == [] or all(r["uptime"] == "no data" for r in data["routes"])


def test_another_clients_data_never_enters_a_report(tenant: Tenant, other_tenant: Tenant) -> None:
    history(tenant.client)
    history(other_tenant.client)
    week_events(other_tenant.client, other_tenant.domain, period_for(other_tenant.client, WEEK))
    data = build_report(tenant.client, WEEK, now=_now(tenant))
    text = repr(data)
    assert other_tenant.domain.name not in text
    assert data["incidents"] == [] and data["deploys"] == [] and data["fixed"] == []


@pytest.mark.parametrize("weeks", [1, 6])
def test_the_query_count_does_not_grow_with_history(weeks: int, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    add_routes(tenant.domain)
    period = history(tenant.client, weeks=weeks)
    week_events(tenant.client, tenant.domain, period)
    # The latest repository scans' and journeys' findings, the heartbeats' outages, senders, the journeys; the core
    # monitors of the week's deploy, whose p95 before and after the rollup task did not store (once stored, they cost
    # no query).
    with django_assert_max_num_queries(21):
        data = build_report(tenant.client, WEEK, now=_now(tenant))
    assert data["summary"]["probes"] == 3 * 7 * 2 * 20


def test_many_clients_cost_the_queries_of_one(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    tenants = [make_tenant() for _ in range(6)]
    for t in tenants:
        history(t.client, weeks=1)
    with django_assert_max_num_queries(17):
        reports = build_reports([t.client for t in tenants], WEEK, now=_now(tenants[0]))
    assert [r["summary"]["probes"] for r in reports.values()] == [280] * 6


def test_a_week_is_the_clients_own_week() -> None:
    tenant = make_tenant()
    tenant.client.timezone = "America/New_York"
    period = period_for(tenant.client, WEEK)
    assert period.start.isoformat() == "2026-11-09T05:00:00+00:00"
    assert period.end.isoformat() == "2026-11-16T05:00:00+00:00"
    assert week_of(period.end - timedelta(seconds=1), ZoneInfo("America/New_York")) == WEEK - timedelta(days=7)
    tenant.client.timezone = "Not/AZone"  # a bad zone in old data falls back to UTC rather than failing
    assert period_for(tenant.client, WEEK).start.isoformat() == "2026-11-09T00:00:00+00:00"


def test_numbers_read_well() -> None:
    assert percent(None, none="no data") == "no data" and percent(100.0) == "100%" and percent(99.999) == "99.99%"
    assert latency(None) == "—" and latency(125.0) == "125 ms" and latency(2500.0) == "2.5 s"
    assert duration(45) == "45 s" and duration(14 * 60) == "14 min" and duration(3 * 3600 + 60) == "3 h 1 min"
    assert duration(3 * 86400) == "3 d 0 h"


def test_windows_count_every_probe_once_across_daily_hourly_and_missing_rollups(tenant: Tenant) -> None:
    from monitoring.models import Probe, Rollup
    from monitoring.rollup import windows
    from tests.reports.report_data import monitors_of, probe_days

    [monitor] = monitors_of(tenant.client)
    first = period_for(tenant.client, WEEK).start
    probe_days(monitor, first, 4, 90.0)  # four days with their daily rollups
    # The third day's daily rollup is not built yet, nor the fourth's (today's, say).
    Rollup.objects.filter(period="day", start__gte=first + timedelta(days=2)).delete()
    start, end = first + timedelta(hours=11), first + timedelta(days=3, hours=11)  # partial days at both ends
    expected = Probe.objects.filter(monitor=monitor, at__gte=start, at__lt=end).count()
    result = windows([monitor.id], start, end)[monitor.id]
    assert result.probes == expected == 20 + 40 + 40 + 20
