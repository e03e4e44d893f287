"""When a heartbeat's next ping is expected and when it is late: a period after its last run, or the next time
its cron expression names in the client's time zone; then its grace. And what it is now: up, late, failed,
never pinged or paused. Plain functions of the heartbeat's fields and a clock, so tests choose the time."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter

from monitoring.models import Heartbeat

# The standard five fields (minute, hour, day of month, month, day of week) with names, ranges, steps and lists;
# no seconds or year field, no hashed or random values: what a crontab line takes.
CRON_PART = re.compile(r"^[0-9A-Za-z*,/\-]{1,40}$")
NICKNAMES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
CRON_EXAMPLE = "0 3 * * * (every day at 03:00)"


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The client's time zone; UTC for a name the time-zone database does not know (the form never lets one in)."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def cron_problem(expression: str) -> str:
    """What is wrong with a cron expression, in a sentence; "" when croniter can schedule it."""
    text = " ".join(expression.split())
    if not text:
        return f"Enter a cron expression, such as {CRON_EXAMPLE}."
    if text.lower() in NICKNAMES:
        return ""
    parts = text.split(" ")
    if len(parts) != 5:
        return "A cron expression has five fields: minute, hour, day of the month, month and day of the week."
    if not all(CRON_PART.match(p) for p in parts):
        return "Each field takes numbers, names (mon, jan), *, ranges (1-5), lists (1,15) and steps (*/10)."
    if not croniter.is_valid(text):
        return "Check each field's range: minute 0–59, hour 0–23, day 1–31, month 1–12, day of the week 0–6."
    try:
        next_fire(text, datetime.now(UTC), zoneinfo.ZoneInfo("UTC"))
    except ValueError:
        return "That expression names no time that ever comes (such as 30 February)."
    return ""


def next_fire(expression: str, after: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    """The first time after `after` that the expression names, read on the clock of `tz`, in UTC. Raises
    ValueError when the expression is unreadable or names no time within croniter's search."""
    try:
        fire = croniter(" ".join(expression.split()), after.astimezone(tz)).get_next(datetime)
    except (ValueError, KeyError, TypeError, OverflowError) as exc:  # croniter's errors are ValueErrors
        raise ValueError(str(exc)) from None
    return fire.astimezone(UTC)  # in UTC: adding the grace to local time would be wrong across a DST change


def _fire_or_none(expression: str, after: datetime, tz: zoneinfo.ZoneInfo) -> datetime | None:
    try:
        return next_fire(expression, after, tz)
    except ValueError:
        return None


def grace(heartbeat: Heartbeat) -> timedelta:
    return timedelta(minutes=heartbeat.grace_minutes)


def last_run(heartbeat: Heartbeat) -> datetime | None:
    """When the job last said it finished, well or not (a /start is not a run)."""
    ends = [t for t in (heartbeat.last_success_at, heartbeat.last_failure_at) if t is not None]
    return max(ends, default=None)


def _anchor(heartbeat: Heartbeat) -> datetime | None:
    """What the schedule counts from: the last run, or the resume after a pause when that came later."""
    ran = last_run(heartbeat)
    if ran is None:
        return None
    return max(ran, heartbeat.resumed_at) if heartbeat.resumed_at else ran


def after(heartbeat: Heartbeat, moment: datetime, tz: zoneinfo.ZoneInfo) -> datetime | None:
    """The first ping the schedule expects after `moment`: a period on, or the cron expression's next time."""
    if heartbeat.schedule == Heartbeat.Schedule.CRON:
        return _fire_or_none(heartbeat.cron, moment, tz)
    return moment + timedelta(minutes=heartbeat.period_minutes)


def expected_at(heartbeat: Heartbeat, tz: zoneinfo.ZoneInfo) -> datetime | None:
    """When the next ping is expected; None before the first run (a new heartbeat is never late)."""
    anchor = _anchor(heartbeat)
    return None if anchor is None else after(heartbeat, anchor, tz)


def running(heartbeat: Heartbeat) -> bool:
    """A /start with no success or failure after it."""
    return heartbeat.started_at is not None


def late_after(heartbeat: Heartbeat, tz: zoneinfo.ZoneInfo) -> datetime | None:
    """The moment the heartbeat is late: its expected time plus grace, or, during a run, the start plus grace
    when that comes first (a run that never finishes). None while nothing is expected of it."""
    moments = []
    expected = expected_at(heartbeat, tz)
    if expected is not None:
        moments.append(expected + grace(heartbeat))
    if heartbeat.started_at is not None:
        moments.append(heartbeat.started_at + grace(heartbeat))
    return min(moments, default=None)


def failing(heartbeat: Heartbeat) -> bool:
    """Its latest run ended with /fail, and no success came since."""
    failed, succeeded = heartbeat.last_failure_at, heartbeat.last_success_at
    return failed is not None and (succeeded is None or failed > succeeded)


class State:
    UP = "up"
    LATE = "late"
    FAILED = "failed"
    NEVER = "never"
    PAUSED = "paused"


LABELS = {
    State.UP: "Up",
    State.LATE: "Late",
    State.FAILED: "Failed",
    State.NEVER: "Never pinged",
    State.PAUSED: "Paused",
}


@dataclass(frozen=True)
class Status:
    state: str
    running: bool
    expected_at: datetime | None
    late_after: datetime | None
    stuck: bool = False  # late because a run started and never finished

    @property
    def label(self) -> str:
        return LABELS[self.state]


def status(heartbeat: Heartbeat, now: datetime, tz: zoneinfo.ZoneInfo) -> Status:
    """What the heartbeat is at `now`."""
    expected, deadline = expected_at(heartbeat, tz), late_after(heartbeat, tz)
    is_running = running(heartbeat)
    if heartbeat.paused:
        return Status(State.PAUSED, is_running, None, None)
    if heartbeat.last_ping_at is None:
        return Status(State.NEVER, False, None, None)
    if failing(heartbeat):
        return Status(State.FAILED, is_running, expected, deadline)
    if deadline is not None and now >= deadline:
        return Status(State.LATE, is_running, expected, deadline, stuck(heartbeat, now))
    return Status(State.UP, is_running, expected, deadline)


def stuck(heartbeat: Heartbeat, now: datetime) -> bool:
    """Late because a run began and did not say it finished within the grace."""
    return heartbeat.started_at is not None and now >= heartbeat.started_at + grace(heartbeat)


def describe(heartbeat: Heartbeat) -> str:
    """The schedule in words: "every 1 h, 10 min grace", "cron 0 3 * * * (Europe/Paris), 30 min grace"."""
    wait = describe_minutes(heartbeat.grace_minutes)
    if heartbeat.schedule == Heartbeat.Schedule.CRON:
        return f"cron {' '.join(heartbeat.cron.split())} ({heartbeat.client.timezone}), {wait} grace"
    return f"every {describe_minutes(heartbeat.period_minutes)}, {wait} grace"


def describe_minutes(n: int) -> str:
    """A number of minutes as a reader says it: "45 min", "2 h", "1 h 30 min", "1 d"."""
    if n % (60 * 24) == 0:
        return f"{n // (60 * 24)} d"
    if n % 60 == 0:
        return f"{n // 60} h"
    if n > 60:
        return f"{n // 60} h {n % 60} min"
    return f"{n} min"
