"""Server-rendered charts: the 90-day uptime bar and the p95 latency line, as plain SVG geometry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from html import escape

from django.utils.safestring import SafeString, mark_safe

from launchready.formatting import percent, plural
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


# The bar's bands of daily uptime, best first: each is drawn as one path of its days' cells.
BANDS: tuple[tuple[str, str], ...] = (
    ("#12805c", "99.9% up or more"),
    ("#7cc4a4", "99% to 99.9% up"),
    ("#e8a33d", "95% to 99% up"),
    ("#b42318", "under 95% up"),
    ("#dfe3ea", "no data"),  # unknown, not up
)
NO_DATA = len(BANDS) - 1


def _band(uptime: float | None) -> int:
    if uptime is None:
        return NO_DATA
    if uptime >= 99.9:
        return 0
    if uptime >= 99:
        return 1
    if uptime >= 95:
        return 2
    return 3


@lru_cache(maxsize=8)
def _days(today: datetime, days: int) -> tuple[tuple[datetime, str, str], ...]:
    """The bar's days, oldest first, each with its cell as path data and its label: the same for every route on
    a page, so made once."""
    width = WIDTH / days
    cell_width = round(max(width - 1, 1), 2)
    slots = []
    for i in range(days):
        day = today - timedelta(days=days - 1 - i)
        slots.append((day, f"M{round(i * width, 2)} 0h{cell_width}v24h-{cell_width}z", f"{day:%d %b}: "))
    return tuple(slots)


def uptime_bar(daily: list[tuple[datetime, int, int]], now: datetime, days: int = BAR_DAYS) -> SafeString:
    """One cell per day, oldest first, coloured by that day's uptime, from (day start, probes, failures); the
    cells of a colour are one path, whose title says which days they are (the best days and those without data
    are counted, the others listed with their figure), and the bar's accessible name sums it up. A few paths
    rather than one rectangle and title per day: a page of 25 routes would carry 2,250 of each."""
    by_day = {day_start(start): (n, f) for start, n, f in daily}
    cells: list[list[str]] = [[] for _ in BANDS]
    listed: list[list[str]] = [[] for _ in BANDS]
    for day, cell, label in _days(day_start(now), days):
        n, f = by_day.get(day, (0, 0))
        uptime = 100.0 * (n - f) / n if n else None
        band = _band(uptime)
        cells[band].append(cell)
        if band not in (0, NO_DATA):
            listed[band].append(f"{label}{percent(uptime)} up")
    paths, summary = [], []
    for band, (colour, words) in enumerate(BANDS):
        if not cells[band]:
            continue
        counted = f"{words}, {plural(len(cells[band]), 'day')}"
        summary.append(counted)
        title = f"{counted}: {'; '.join(listed[band])}" if listed[band] else counted
        # The labels are dates and numbers of our own: there is nothing in them to escape.
        paths.append(f'<path fill="{colour}" d="{"".join(cells[band])}"><title>{title}</title></path>')
    name = f"Uptime by day, last {days} days: {'; '.join(summary)}"
    return mark_safe(  # noqa: S308 - numbers, dates and colours from here  # nosec B308 B703
        '<svg class="uptime-bar" viewBox="0 0 600 24" preserveAspectRatio="none" role="img" '
        f'aria-label="{name}">{"".join(paths)}</svg>'
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
