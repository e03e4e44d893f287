"""Fixed-bucket latency histograms: rollups store counts per bucket, and percentiles over any window
come from adding bucket counts, so storage per route stays bounded whatever the history."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

# Upper bounds in milliseconds; the last bucket takes everything slower. Finer where budgets live.
BOUNDS_MS: tuple[int, ...] = (
    10,
    20,
    30,
    40,
    50,
    75,
    100,
    125,
    150,
    200,
    250,
    300,
    400,
    500,
    600,
    750,
    1000,
    1250,
    1500,
    2000,
    2500,
    3000,
    4000,
    5000,
    7500,
    10000,
    15000,
    30000,
)
BUCKETS = len(BOUNDS_MS) + 1


def empty() -> list[int]:
    return [0] * BUCKETS


def bucket_of(latency_ms: float) -> int:
    return bisect.bisect_left(BOUNDS_MS, latency_ms)


def add(histogram: list[int], latency_ms: float) -> list[int]:
    histogram[bucket_of(latency_ms)] += 1
    return histogram


def merge(histograms: Iterable[Sequence[int]]) -> list[int]:
    total = empty()
    for histogram in histograms:
        for i, count in enumerate(histogram[:BUCKETS]):
            total[i] += count
    return total


def percentile(histogram: Sequence[int], fraction: float) -> float | None:
    """The upper bound of the bucket holding the given fraction of samples (None with no samples).

    Reporting the bucket's upper bound errs on the slow side: a p95 under budget here is under budget.
    """
    count = sum(histogram)
    if count == 0:
        return None
    rank = max(1, int(fraction * count + 0.999999))
    running = 0
    for i, n in enumerate(histogram):
        running += n
        if running >= rank:
            return float(BOUNDS_MS[i]) if i < len(BOUNDS_MS) else float(BOUNDS_MS[-1] * 2)
    return float(BOUNDS_MS[-1] * 2)
