"""Server-rendered charts: the 90-day uptime bar and the p95 latency line, as plain SVG geometry."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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


def uptime_bar(daily: list[tuple[datetime, int, int]], now: datetime, days: int = BAR_DAYS) -> list[Cell]:
    """One cell per day, oldest first: (day start, probes, failures) rows in, coloured cells out."""
    by_day = {day_start(start): (n, f) for start, n, f in daily}
    width = WIDTH / days
    cells = []
    today = day_start(now)
    for i in range(days):
        day = today - timedelta(days=days - 1 - i)
        n, f = by_day.get(day, (0, 0))
        uptime = 100.0 * (n - f) / n if n else None
        label = f"{day:%d %b}: " + (f"{uptime:.2f}% up" if uptime is not None else "no data")
        cells.append(Cell(round(i * width, 2), round(max(width - 1, 1), 2), _colour(uptime), label))
    return cells


def p95_line(
    hourly: list[tuple[datetime, list[int]]],
    now: datetime,
    deploys: Sequence[tuple[datetime, str]] = (),
    hours: int = LINE_HOURS,
) -> Line:
    """The p95 of each hour over the last `hours`, scaled into the chart box."""
    merged: dict[datetime, list[int]] = defaultdict(histogram.empty)
    for start, hist in hourly:
        key = hour_start(start)
        merged[key] = histogram.merge([merged[key], hist])
    first = hour_start(now) - timedelta(hours=hours - 1)
    values: list[tuple[int, float]] = []
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
    line.points = " ".join(f"{i * step:.1f},{HEIGHT - (v / line.max_ms) * HEIGHT:.1f}" for i, v in values)
    line.p95_now = values[-1][1]
    for at, label in deploys:
        offset = (at - first).total_seconds() / 3600
        if 0 <= offset <= hours:
            line.markers.append((round(offset * step, 1), label))
    return line
