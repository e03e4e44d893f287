"""Server-rendered charts: the 90-day uptime bar and the p95 latency line, as plain SVG geometry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from html import escape

from django.utils.safestring import SafeString, mark_safe

from launchready.formatting import percent
from monitoring.rollup import day_start, hour_start

BAR_DAYS = 90
LINE_HOURS = 48
WIDTH, HEIGHT = 600, 120


@dataclass
class Line:
    points: str = ""
    max_ms: float = 0
    p95_now: float | None = None
    markers: list[tuple[float, str]] = field(default_factory=list)  # deploy markers: x and label


def _colour(uptime: float | None) -> str:
    if uptime is None:
        return "#dfe3ea"  # no data: unknown, not up
    if uptime >= 99.9:
        return "#12805c"
    if uptime >= 99:
        return "#7cc4a4"
    if uptime >= 95:
        return "#e8a33d"
    return "#b42318"


@lru_cache(maxsize=8)
def _days(today: datetime, days: int) -> tuple[tuple[datetime, str, str], ...]:
    """The bar's days, oldest first, each with the start of its cell's markup and its label: the same for
    every route on a page, so made once."""
    width = WIDTH / days
    cell_width = round(max(width - 1, 1), 2)
    slots = []
    for i in range(days):
        day = today - timedelta(days=days - 1 - i)
        rect = f'<rect x="{round(i * width, 2)}" y="0" width="{cell_width}" height="24" rx="1.5" fill="'
        slots.append((day, rect, f"{day:%d %b}: "))
    return tuple(slots)


def uptime_bar(daily: list[tuple[datetime, int, int]], now: datetime, days: int = BAR_DAYS) -> SafeString:
    """One cell per day, oldest first, coloured by that day's uptime, from (day start, probes, failures)."""
    by_day = {day_start(start): (n, f) for start, n, f in daily}
    cells = []
    for day, rect, label in _days(day_start(now), days):
        n, f = by_day.get(day, (0, 0))
        uptime = 100.0 * (n - f) / n if n else None
        text = f"{percent(uptime)} up" if uptime is not None else "no data"
        # Written out here rather than by a template loop (2,250 cells on a page of 25 routes); the labels
        # are a date and a number of our own, so there is nothing in them to escape.
        cells.append(f'{rect}{_colour(uptime)}"><title>{label}{text}</title></rect>')
    return mark_safe(  # noqa: S308 - numbers, dates and colours from here  # nosec B308 B703
        '<svg class="uptime-bar" viewBox="0 0 600 24" preserveAspectRatio="none" role="img" '
        f'aria-label="Uptime, last {days} days">{"".join(cells)}</svg>'
    )


def p95_line(
    p95s: dict[datetime, float],
    now: datetime,
    deploys: Sequence[tuple[datetime, str]] = (),
    hours: int = LINE_HOURS,
) -> Line:
    """The p95 of each hour (by its start) over the last `hours`, scaled into the chart box."""
    first = hour_start(now) - timedelta(hours=hours - 1)
    values: list[tuple[float, float]] = []
    for i in range(hours):
        p95 = p95s.get(first + timedelta(hours=i))
        if p95 is not None:
            values.append((i, p95))
    line = Line()
    if not values:
        return line
    line.max_ms = max(v for _, v in values) * 1.15
    step = WIDTH / max(hours - 1, 1)
    if len(values) == 1:  # one hour of data: a short level dash rather than a line nobody can see
        hour, p95 = values[0]
        values = [(max(0.0, hour - 0.5), p95), (min(hours - 1.0, hour + 0.5), p95)]
    line.points = " ".join(f"{x * step:.1f},{HEIGHT - (v / line.max_ms) * HEIGHT:.1f}" for x, v in values)
    line.p95_now = values[-1][1]
    for at, label in deploys:
        offset = (at - first).total_seconds() / 3600
        if 0 <= offset <= hours:
            line.markers.append((round(offset * step, 1), label))
    return line


def line_svg(line: Line) -> SafeString:
    if not line.points:
        return SafeString("")
    markers = "".join(
        f'<line x1="{x}" x2="{x}" y1="0" y2="{HEIGHT}" stroke="#a15c00" stroke-dasharray="4 3" '
        f'vector-effect="non-scaling-stroke"><title>{escape(label)}</title></line>'
        for x, label in line.markers
    )
    return mark_safe(  # noqa: S308 - coordinates from here; labels escaped  # nosec B308 B703
        f'<svg class="p95-line" viewBox="0 -6 {WIDTH} {HEIGHT + 12}" preserveAspectRatio="none" role="img" '
        f'aria-label="p95 latency, last {LINE_HOURS} hours"><polyline points="{line.points}" fill="none" '
        f'stroke="#2d5bff" stroke-width="2" vector-effect="non-scaling-stroke"/>{markers}</svg>'
    )
