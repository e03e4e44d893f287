"""The weeks a report covers, in the client's time zone: the week a report is sent in, the week before it
that it reports on, and the part of that week the client existed for."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from launchready.formatting import date_range
from launchready.models import Client

WEEK = timedelta(days=7)


def client_zone(client: Client) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(client.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def week_of(at: datetime, tz: zoneinfo.ZoneInfo) -> date:
    """The Monday of the week `at` falls in, in the given time zone."""
    day = at.astimezone(tz).date()
    return day - timedelta(days=day.weekday())


def local_midnight(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(zoneinfo.ZoneInfo("UTC"))


@dataclass(frozen=True)
class Period:
    """The week a report covers: the whole week (Monday to Sunday, the client's time) before `sent_week`."""

    sent_week: date
    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        return self.sent_week - WEEK

    @property
    def last_day(self) -> date:
        return self.sent_week - timedelta(days=1)

    @property
    def label(self) -> str:
        return date_range(self.first_day, self.last_day)


def period_for(client: Client, sent_week: date) -> Period:
    tz = client_zone(client)
    return Period(sent_week, local_midnight(sent_week - WEEK, tz), local_midnight(sent_week, tz))


def first_week(client: Client, week: date) -> date:
    """`week`, or the first week after it whose report covers a day the client existed: no report, preview,
    digest or history offers a week that ended before the client was added."""
    while period_for(client, week).end <= client.created:
        week += WEEK
    return week


def covered(client: Client, period: Period, now: datetime) -> tuple[datetime, datetime]:
    """The part of the week the report can speak for: from the client's creation (its first report covers
    only the days since) to the week's end, or to now while the week is still going."""
    begin = max(period.start, client.created)
    return begin, max(min(period.end, now), begin)


def week_label(client: Client, period: Period) -> str:
    """The week's dates, starting on the day the client was added when that falls inside it."""
    first = client.created.astimezone(client_zone(client)).date()
    if first <= period.first_day or first > period.last_day:
        return period.label
    return date_range(first, period.last_day)
