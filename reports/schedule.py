"""When weekly reports fall due: each client's weekday and hour in its own time zone. The beat makes the
row of every client whose send time has passed this week (at most one per client and week) and queues
the rows that wait, including those whose task or worker was lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from launchready.models import Client
from reports.models import ReportSchedule, WeeklyReport
from reports.weeks import client_zone, first_week, local_midnight, period_for, week_of

LOST_AFTER = timedelta(minutes=5)  # a row still waiting this long lost its task: queue it again
DEFAULT = ReportSchedule(weekday=0, hour=9)


@dataclass
class Due:
    client: Client
    week: date
    send_at: datetime


def schedule_of(client: Client) -> ReportSchedule:
    try:
        return client.report_schedule
    except ReportSchedule.DoesNotExist:
        return DEFAULT


def send_time(client: Client, week: date) -> datetime:
    schedule = schedule_of(client)
    tz = client_zone(client)
    return local_midnight(week + timedelta(days=schedule.weekday), tz) + timedelta(hours=schedule.hour)


def next_send(client: Client, now: datetime | None = None) -> datetime | None:
    """When the next report goes out (None when the client's reports are off)."""
    now = now or timezone.now()
    if not schedule_of(client).enabled:
        return None
    week = week_of(now, client_zone(client))
    at = send_time(client, week)
    return at if at > now else send_time(client, week + timedelta(days=7))


def due_clients(now: datetime) -> list[Due]:
    """Clients whose send time this week has passed (in their time zone), that existed in the week reported."""
    due = []
    for client in Client.objects.select_related("report_schedule").only(
        "id", "code", "timezone", "created", "name", "workspace_id", "report_schedule"
    ):
        if not schedule_of(client).enabled:
            continue
        week = week_of(now, client_zone(client))
        at = send_time(client, week)
        if at <= now and client.created < period_for(client, week).end:
            due.append(Due(client, week, at))
    return due


def make_due_reports(now: datetime | None = None) -> list[int]:
    """Create this week's row for every due client (once: the constraint holds against racing beats) and
    return the ids of rows that should be worked on now."""
    now = now or timezone.now()
    due = due_clients(now)
    rows = []
    for d in due:
        period = period_for(d.client, d.week)
        rows.append(WeeklyReport(client=d.client, week=d.week, period_start=period.start, period_end=period.end))
    WeeklyReport.objects.bulk_create(rows, ignore_conflicts=True)
    recent = now.date() - timedelta(days=8)
    waiting = WeeklyReport.objects.filter(week__gte=recent).filter(
        Q(state=WeeklyReport.State.PENDING, attempts=0)
        | Q(state=WeeklyReport.State.PENDING, created__lt=now - LOST_AFTER)
        | Q(state__in=[WeeklyReport.State.CLAIMED, WeeklyReport.State.SENDING], lease_until__lt=now)
    )
    return list(waiting.order_by("id").values_list("id", flat=True))


def preview_week(client: Client, now: datetime | None = None) -> date:
    """The week whose report goes out next: this week's, or next week's once this week's is on its way."""
    now = now or timezone.now()
    week = week_of(now, client_zone(client))
    started = [WeeklyReport.State.CLAIMED, WeeklyReport.State.SENDING, WeeklyReport.State.SENT]
    if WeeklyReport.objects.filter(client=client, week=week, state__in=started).exists():
        week += timedelta(days=7)
    return first_week(client, week)
