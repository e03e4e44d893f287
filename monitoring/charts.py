"""Server-rendered charts: the 90-day uptime bar and the p95 latency line, as plain SVG geometry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from html import escape

from django.utils.safestring import SafeString, mark_safe

from monitoring import histogram
from monitoring.rollup import day_start, hour_start

BAR_DAYS = 90
LINE_HOURS = 48
WIDTH, HEIGHT = 600, 120


@dataclass
class Cell:
    x: float
    width: float
    colour: str
    label: str


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
def _days(today: datetime, days: int) -> tuple[tuple[datetime, str], ...]:
    """The bar's days, oldest first, with their labels: the same for every route on a page."""
    return tuple((day, f"{day:%d %b}: ") for day in (today - timedelta(days=days - 1 - i) for i in range(days)))


def uptime_bar(daily: list[tuple[datetime, int, int]], now: datetime, days: int = BAR_DAYS) -> list[Cell]:
    """One cell per day, oldest first: (day start, probes, failures) rows in, coloured cells out."""
    by_day = {day_start(start): (n, f) for start, n, f in daily}
    width = WIDTH / days
    cell_width = round(max(width - 1, 1), 2)
    cells = []
    for i, (day, label) in enumerate(_days(day_start(now), days)):
        n, f = by_day.get(day, (0, 0))
        uptime = 100.0 * (n - f) / n if n else None
        text = label + (f"{uptime:.2f}% up" if uptime is not None else "no data")
        cells.append(Cell(round(i * width, 2), cell_width, _colour(uptime), text))
    return cells


def p95_line(
    hourly: list[tuple[datetime, list[int]]],
    now: datetime,
    deploys: Sequence[tuple[datetime, str]] = (),
    hours: int = LINE_HOURS,
) -> Line:
    """The p95 of each hour over the last `hours`, scaled into the chart box."""
    merged: dict[datetime, list[int]] = {}
    for start, hist in hourly:
        key = hour_start(start)
        merged[key] = histogram.merge([merged[key], hist]) if key in merged else hist
    first = hour_start(now) - timedelta(hours=hours - 1)
    values: list[tuple[float, float]] = []
    for i in range(hours):
        bucket_counts = merged.get(first + timedelta(hours=i))
        p95 = histogram.percentile(bucket_counts, 0.95) if bucket_counts else None
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


# Written out here rather than by a template loop: a page of 25 routes has 2,250 cells, and the template
# engine's per-variable cost made the charts most of the page's time.
def bar_svg(cells: Sequence[Cell]) -> SafeString:
    rects = "".join(
        f'<rect x="{c.x}" y="0" width="{c.width}" height="24" rx="1.5" fill="{c.colour}">'
        f"<title>{escape(c.label)}</title></rect>"
        for c in cells
    )
    return mark_safe(  # noqa: S308 - numbers and colours from here; labels escaped  # nosec B308 B703
        '<svg class="uptime-bar" viewBox="0 0 600 24" preserveAspectRatio="none" role="img" '
        f'aria-label="Uptime, last {len(cells)} days">{rects}</svg>'
    )


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
