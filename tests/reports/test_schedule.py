"""When reports fall due: the client's weekday and hour in its time zone, one row per client and week
however often the beat runs, and the rows whose task or worker was lost are queued again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from reports.models import ReportSchedule, WeeklyReport
from reports.schedule import due_clients, make_due_reports, next_send
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db

MONDAY_9_LONDON = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # London is on UTC in November


def _client(tz: str = "Europe/London", **schedule: object):  # type: ignore[no-untyped-def]
    client = make_tenant().client
    client.timezone = tz
    client.created = datetime(2026, 1, 1, tzinfo=UTC)
    client.save()
    if schedule:
        ReportSchedule.objects.create(client=client, **schedule)
    return client


def test_a_report_falls_due_at_its_hour_in_the_clients_time_zone() -> None:
    london = _client()
    new_york = _client("America/New_York")
    friday = _client(weekday=4, hour=17)
    assert due_clients(MONDAY_9_LONDON - timedelta(minutes=1)) == []
    assert [d.client for d in due_clients(MONDAY_9_LONDON)] == [london]
    at_9_in_new_york = {d.client for d in due_clients(MONDAY_9_LONDON + timedelta(hours=5))}
    assert at_9_in_new_york == {london, new_york}
    friday_5pm = MONDAY_9_LONDON + timedelta(days=4, hours=8)
    assert {d.client for d in due_clients(friday_5pm)} == {london, new_york, friday}
    assert next_send(friday, MONDAY_9_LONDON) == friday_5pm


def test_reports_that_are_off_or_of_clients_too_new_are_not_due() -> None:
    _client(enabled=False)
    newcomer = _client()
    newcomer.created = MONDAY_9_LONDON - timedelta(hours=1)  # signed up this week: nothing to report yet
    newcomer.save()
    assert due_clients(MONDAY_9_LONDON) == []


def test_the_beat_makes_one_row_per_client_and_week_however_often_it_runs() -> None:
    a, b = _client(), _client()
    first = make_due_reports(MONDAY_9_LONDON)
    again = make_due_reports(MONDAY_9_LONDON + timedelta(minutes=2))
    assert WeeklyReport.objects.count() == 2
    assert set(first) == set(again) == set(WeeklyReport.objects.values_list("id", flat=True))
    rows = {r.client: r for r in WeeklyReport.objects.all()}
    assert rows[a].period_end == MONDAY_9_LONDON - timedelta(hours=9)
    assert rows[a].period_start == rows[a].period_end - timedelta(days=7)
    # A row claimed by a live worker is left alone; one whose lease ran out is queued again.
    WeeklyReport.objects.filter(client=a).update(
        state="sending", claim=uuid.uuid4(), lease_until=MONDAY_9_LONDON + timedelta(minutes=5), attempts=1
    )
    WeeklyReport.objects.filter(client=b).update(state="sent", attempts=1)
    assert make_due_reports(MONDAY_9_LONDON + timedelta(minutes=4)) == []
    assert make_due_reports(MONDAY_9_LONDON + timedelta(minutes=6)) == [rows[a].id]
    # Next week is a new row.
    make_due_reports(MONDAY_9_LONDON + timedelta(days=7))
    assert WeeklyReport.objects.filter(client=b).count() == 2


def test_the_schedule_form_refuses_an_hour_that_does_not_exist() -> None:
    from reports.forms import ReportScheduleForm

    form = ReportScheduleForm({"enabled": "on", "weekday": "0", "hour": "25"})
    assert not form.is_valid() and "hour" in form.errors
    form = ReportScheduleForm({"enabled": "on", "weekday": "9", "hour": "9"})
    assert not form.is_valid() and "weekday" in form.errors
