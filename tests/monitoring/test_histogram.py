"""Latency histograms: percentiles from merged fixed buckets, bounded in size."""

from __future__ import annotations

import random

from monitoring import histogram as h


def test_it_puts_each_latency_in_the_first_bucket_that_holds_it() -> None:
    assert h.bucket_of(0) == 0
    assert h.bucket_of(10) == 0
    assert h.bucket_of(10.5) == 1
    assert h.bucket_of(10**6) == h.BUCKETS - 1


def test_percentiles_come_from_merged_buckets_and_err_on_the_slow_side() -> None:
    rng = random.Random(7)
    samples = [rng.uniform(40, 480) for _ in range(5000)] + [rng.uniform(900, 1900) for _ in range(300)]
    days = [h.empty() for _ in range(7)]
    for i, latency in enumerate(samples):
        h.add(days[i % 7], latency)
    merged = h.merge(days)
    exact = sorted(samples)[int(0.95 * len(samples)) - 1]
    p95 = h.percentile(merged, 0.95)
    assert p95 is not None and p95 >= exact
    assert h.bucket_of(p95) == h.bucket_of(exact)  # same bucket as the true value
    assert sum(merged) == len(samples) and len(merged) == h.BUCKETS


def test_no_samples_means_no_percentile() -> None:
    assert h.percentile(h.empty(), 0.5) is None
