"""Words for figures, the same on every page, pack and email: percentages that never round a failure up to
100%, latencies, durations in the unit a reader thinks in, uptime with the time it was actually observed over,
dates and times, the sprint countdown, and the small rules of English they share (plurals, possessives)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from http import HTTPStatus

from django.utils import timezone
from django.utils.timesince import timesince

MINUTE, HOUR, DAY = 60, 3600, 86400
JUST_NOW = timedelta(minutes=1)


# --- names and counts --------------------------------------------------------------------------------


# Control characters (an escape sequence, a bell, a newline in a file name or a TXT record) and the marks that
# reverse the direction of text: shown as escapes wherever text from outside reaches a terminal or a log.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: object, *, keep: str = "") -> str:
    """Text from a domain, a file name or a file as a terminal may print it: control characters escaped (but
    those in `keep`, such as the tabs and newlines of a text that is meant to have them)."""
    return _CONTROL.sub(lambda m: _escape(m.group(), keep), str(text))


def _escape(char: str, keep: str) -> str:
    if char in keep:
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"


def plural(n: int, word: str) -> str:
    """'1 blocker', '3 blockers', '1,204 files'."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def possessive(name: str) -> str:
    """ "Brightpath's", but "Ghost Labs'": a name ending in s takes the apostrophe alone."""
    name = str(name).rstrip()
    if not name:
        return name
    return f"{name}'" if name[-1] in "sS" else f"{name}'s"


# --- percentages and latencies -----------------------------------------------------------------------


def percent(value: float | None, none: str = "no data yet") -> str:
    """99.95%, 25%, 100%: two decimals at most, trailing zeros dropped; anything under 100 stays under it
    (99.996 is "99.99%": a failure is never rounded up to a perfect figure)."""
    if value is None:
        return none
    if value >= 100:
        return "100%"
    text = f"{min(max(value, 0.0), 99.99):.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def status_words(status: int | None) -> str:
    """An HTTP status as people read it: '301 (Moved Permanently)'."""
    if status is None:
        return "no status"
    try:
        return f"{status} ({HTTPStatus(status).phrase})"
    except ValueError:
        return str(status)


def latency(value: float | None, none: str = "—") -> str:
    """A response time: '125 ms', '2.5 s' from a second on."""
    if value is None:
        return none
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


# --- durations ---------------------------------------------------------------------------------------


def span(seconds: float) -> str:
    """How long something lasted, in whole units, rounded down (never claims more time than there was)."""
    seconds = max(int(seconds), 0)
    if seconds < MINUTE:
        return "less than a minute"
    if seconds < 2 * HOUR:
        return plural(seconds // MINUTE, "minute")
    if seconds < 2 * DAY:
        return plural(seconds // HOUR, "hour")
    return plural(seconds // DAY, "day")


def duration(seconds: float) -> str:
    """How long an outage (or a gap in monitoring) lasted, compactly: '45 s', '12 min', '3 h 5 min', '2 d 4 h'."""
    seconds = max(int(seconds), 0)
    if seconds < MINUTE:
        return f"{seconds} s"
    minutes = seconds // MINUTE
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def ago(then: datetime, now: datetime | None = None) -> str:
    """ "just now" under a minute (and for a moment a little ahead of this clock), else "5 minutes ago"."""
    now = now or timezone.now()
    if now - then < JUST_NOW:
        return "just now"
    return f"{timesince(then, now)} ago"


# --- uptime over the time observed -------------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    """Uptime over the time the monitors actually watched: time they were not running is neither up nor down."""

    probes: int
    failures: int
    seconds: int  # how long the monitoring watched within the window (the longest-watched route)
    window_seconds: int

    @property
    def uptime(self) -> float | None:
        return 100.0 * (self.probes - self.failures) / self.probes if self.probes else None

    @property
    def whole_window(self) -> bool:
        # Rollups are hourly at the window's edges and a late probe covers a little less than its interval:
        # within 2% of the window, all of it was watched.
        return self.seconds >= self.window_seconds - self.window_seconds // 50


def uptime_span(observed: Observed, whole: str) -> str:
    """'over 5 minutes', or `whole` ('last 30 days', 'the whole week') once all of it was observed."""
    if observed.uptime is None:
        return "no monitoring data yet"
    if observed.whole_window:
        return whole
    return "in under a minute" if observed.seconds < MINUTE else f"over {span(observed.seconds)}"


def uptime_text(observed: Observed, whole: str) -> str:
    """'100% over 5 minutes', '99.95% over 12 days', '99.95%, last 30 days', or 'no data yet'."""
    if observed.uptime is None:
        return "no data yet"
    joiner = ", " if observed.whole_window else " "
    return f"{percent(observed.uptime)}{joiner}{uptime_span(observed, whole)}"


# --- dates and times ---------------------------------------------------------------------------------


def long_date(at: date) -> str:
    """'3 March 2025', for a date or a datetime as given (convert it to the reader's time zone first)."""
    return f"{at.day} {at:%B %Y}"


def short_date(at: date) -> str:
    """'3 Mar 2025'."""
    return f"{at.day} {at:%b %Y}"


def local_date(at: datetime | None) -> str:
    """The day of `at` in the active time zone, '3 March 2025'; empty for no time."""
    return long_date(timezone.localtime(at)) if at else ""


def date_range(first: date, last: date) -> str:
    """A run of days: '3 March 2025', '3–9 March 2025', '28 February – 6 March 2025', across years in full."""
    if first == last:
        return long_date(last)
    if first.month == last.month:
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {long_date(last)}"
    return f"{long_date(first)} – {long_date(last)}"


def moment(at: datetime, tz: tzinfo) -> str:
    """When something happened, in the reader's time zone: 'Mon 3 Mar 14:05'."""
    local = at.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def timeline_moment(at: datetime, tz: tzinfo) -> str:
    """A moment of an incident's timeline, to the second, with the zone's abbreviation: '1 Dec 22:03:22 CET'
    (as Django's date format "j M H:i:s T")."""
    local = at.astimezone(tz)
    return f"{local.day} {local:%b %H:%M:%S} {local.tzname() or ''}".rstrip()


def clock(at: datetime, tz: tzinfo) -> str:
    """The time of day only, in the reader's time zone: '14:05'."""
    return f"{at.astimezone(tz):%H:%M}"


def same_day(a: datetime, b: datetime, tz: tzinfo) -> bool:
    return a.astimezone(tz).date() == b.astimezone(tz).date()


# --- the sprint countdown ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Countdown:
    """The 48-hour sprint countdown, in words a founder reads at a glance."""

    text: str
    overdue: bool
    not_started: bool
    percent_elapsed: int


def _time_left(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 72:  # a sprint is counted in hours; anything past three days in days
        days, hours = divmod(hours, 24)
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def countdown(started_at: datetime, deadline: datetime, now: datetime) -> Countdown:
    total = (deadline - started_at).total_seconds() or 1
    if now < started_at:
        return Countdown(f"starts in {_time_left(started_at - now)}", False, True, 0)
    if now >= deadline:
        return Countdown(f"overdue by {_time_left(now - deadline)}", True, False, 100)
    elapsed = int(100 * (now - started_at).total_seconds() / total)
    return Countdown(f"{_time_left(deadline - now)} left", False, False, max(0, min(100, elapsed)))
