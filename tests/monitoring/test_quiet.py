"""Alerts that should not be sent: held by a maintenance window or by flapping; reminders while an
outage lasts, one per hour, never twice."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.alerts import alerts_for_event
from monitoring.models import Alert, AlertChannel, Incident, IncidentEvent, MaintenanceWindow, Monitor
from monitoring.reminders import send_reminders
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def monitor(tenant: Tenant) -> Monitor:
    AlertChannel.objects.create(client=tenant.client, kind="email", name="Team", recipients=["ops@example.com"])
    return Monitor.objects.create(client=tenant.client, route=tenant.route, url=tenant.route.url)


def _incident(monitor: Monitor, minutes_ago: int = 0) -> Incident:
    return Incident.objects.create(monitor=monitor, started_at=timezone.now() - timedelta(minutes=minutes_ago))


def test_a_one_off_maintenance_window_holds_the_alert(monitor: Monitor) -> None:
    MaintenanceWindow.objects.create(
        client=monitor.client,
        starts_at=timezone.now() - timedelta(minutes=5),
        ends_at=timezone.now() + timedelta(minutes=55),
        note="Database upgrade",
    )
    incident = _incident(monitor)
    assert alerts_for_event(incident, Alert.Kind.DOWN) == []
    assert incident.events.get().kind == IncidentEvent.Kind.HELD
    assert "Database upgrade" in incident.events.get().detail


def test_a_weekly_window_in_the_client_time_zone(monitor: Monitor) -> None:
    tz = zoneinfo.ZoneInfo(monitor.client.timezone)
    window = MaintenanceWindow(client=monitor.client, weekday=6, start_time=dt.time(2, 0), duration_minutes=120)
    sunday_3am = dt.datetime(2026, 11, 22, 3, 0, tzinfo=tz)
    assert window.covers(sunday_3am, tz)
    assert not window.covers(sunday_3am + timedelta(hours=2), tz)
    assert not window.covers(sunday_3am - timedelta(days=1), tz)


def test_a_window_for_another_monitor_does_not_hold_this_one(monitor: Monitor, tenant: Tenant) -> None:
    from tests.factories import RouteFactory

    other_route = RouteFactory(domain=tenant.domain)
    other = Monitor.objects.create(client=tenant.client, route=other_route, url=other_route.url)
    MaintenanceWindow.objects.create(
        client=monitor.client,
        monitor=other,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=1),
    )
    assert len(alerts_for_event(_incident(monitor), Alert.Kind.DOWN)) == 1


def test_flapping_sends_one_summary_instead_of_every_flip(monitor: Monitor) -> None:
    for minutes in (50, 30):
        alerts_for_event(_incident(monitor, minutes), Alert.Kind.DOWN)
    third, fourth = _incident(monitor, 10), _incident(monitor, 1)
    summary = alerts_for_event(third, Alert.Kind.DOWN)
    again = alerts_for_event(fourth, Alert.Kind.DOWN)
    assert [a.kind for a in summary] == ["flapping"] and again == []
    assert Alert.objects.filter(kind="down").count() == 2 and Alert.objects.filter(kind="flapping").count() == 1


def test_reminders_come_once_an_hour_while_the_outage_lasts(monitor: Monitor) -> None:
    incident = _incident(monitor, minutes_ago=90)
    now = timezone.now()
    assert send_reminders(now) == 1
    assert send_reminders(now) == 0  # a second scheduler at the same moment
    assert send_reminders(now + timedelta(minutes=30)) == 0
    assert send_reminders(now + timedelta(minutes=61)) == 1
    assert Alert.objects.filter(incident=incident, kind="reminder").count() == 2
    incident.ended_at = now + timedelta(minutes=70)
    incident.save()
    assert send_reminders(now + timedelta(hours=3)) == 0
