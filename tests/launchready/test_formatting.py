"""Dates, times and latencies read the same wherever they are printed: the weekly report's week and its
incidents, the pack's dates, every p95."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from launchready.formatting import clock, date_range, latency, long_date, moment, same_day, short_date


@pytest.mark.parametrize(
    ("first", "last", "text"),
    [
        (date(2026, 11, 15), date(2026, 11, 15), "15 November 2026"),
        (date(2026, 11, 9), date(2026, 11, 15), "9–15 November 2026"),
        (date(2026, 10, 28), date(2026, 11, 3), "28 October – 3 November 2026"),
        (date(2026, 12, 28), date(2027, 1, 3), "28 December 2026 – 3 January 2027"),
    ],
)
def test_a_run_of_days_names_each_month_and_year_once(first: date, last: date, text: str) -> None:
    assert date_range(first, last) == text


def test_a_moment_is_read_in_the_readers_time_zone() -> None:
    at = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)
    tokyo = ZoneInfo("Asia/Tokyo")
    assert moment(at, tokyo) == "Wed 11 Nov 08:30" and clock(at, tokyo) == "08:30"
    assert moment(at, ZoneInfo("UTC")) == "Tue 10 Nov 23:30"
    assert not same_day(at, datetime(2026, 11, 10, 12, tzinfo=UTC), tokyo)
    assert long_date(at) == "10 November 2026" and short_date(at) == "10 Nov 2026"


def test_latency_switches_to_seconds_from_one_second_on() -> None:
    assert latency(750.0) == "750 ms" and latency(999.4) == "999 ms" and latency(1250.0) == "1.2 s"
    assert latency(None) == "—" and latency(None, none="no data yet") == "no data yet"
