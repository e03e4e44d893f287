"""Words for figures, the same on every page, pack and email: percentages that never round a failure up to
100%, durations in the unit a reader thinks in, and uptime with the time it was actually observed over."""

from __future__ import annotations

from dataclasses import dataclass

MINUTE, HOUR, DAY = 60, 3600, 86400


def percent(value: float | None, none: str = "no data yet") -> str:
    """99.95%, 25%, 100%: two decimals at most, trailing zeros dropped; anything under 100 stays under it."""
    if value is None:
        return none
    if value >= 100:
        return "100%"
    text = f"{min(max(value, 0.0), 99.99):.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def plural(n: int, word: str) -> str:
    """'1 blocker', '3 blockers'."""
    return f"{n} {word}{'' if n == 1 else 's'}"


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
