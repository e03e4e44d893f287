"""When a heartbeat is expected and when it is late: a period after its last run plus grace, or its cron
expression's next time on the client's clock (across a DST change), a run that never finishes, a pause; and
the cron expressions the form refuses, each with its reason."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest

from monitoring import heartbeat_schedule as schedule
from monitoring.heartbeat_schedule import State
from monitoring.models import Heartbeat

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def _at(*args: int, tz: zoneinfo.ZoneInfo = UTC) -> datetime:  # type: ignore[assignment]
    return datetime(*args, tzinfo=tz)  # type: ignore[misc]


def _heartbeat(**fields: object) -> Heartbeat:
    return Heartbeat(name="Nightly backup", **fields)


def test_a_new_heartbeat_is_never_late() -> None:
    heartbeat = _heartbeat(period_minutes=60, grace_minutes=10)
    far = _at(2030, 1, 1)
    assert schedule.late_after(heartbeat, PARIS) is None
    assert schedule.status(heartbeat, far, PARIS).state == State.NEVER


def test_period_and_grace() -> None:
    ran = _at(2026, 11, 30, 12, 0)
    heartbeat = _heartbeat(period_minutes=60, grace_minutes=10, last_ping_at=ran, last_success_at=ran)
    assert schedule.expected_at(heartbeat, PARIS) == ran + timedelta(hours=1)
    assert schedule.late_after(heartbeat, PARIS) == ran + timedelta(minutes=70)
    assert schedule.status(heartbeat, ran + timedelta(minutes=65), PARIS).state == State.UP  # in its grace
    late = schedule.status(heartbeat, ran + timedelta(minutes=70), PARIS)
    assert late.state == State.LATE and not late.stuck


def test_cron_is_read_on_the_clients_clock_across_a_dst_change() -> None:
    # 03:00 every day in New York; the clocks go back on 1 November 2026 (EDT, UTC-4, to EST, UTC-5).
    ran = _at(2026, 10, 31, 3, 0, tz=NEW_YORK)
    heartbeat = _heartbeat(schedule="cron", cron="0 3 * * *", grace_minutes=30, last_ping_at=ran, last_success_at=ran)
    expected = schedule.expected_at(heartbeat, NEW_YORK)
    assert expected == _at(2026, 11, 1, 8, 0)  # 03:00 EST is 08:00 UTC (a day ago it was 07:00 UTC)
    assert schedule.late_after(heartbeat, NEW_YORK) == _at(2026, 11, 1, 8, 30)
    assert schedule.status(heartbeat, _at(2026, 11, 1, 8, 29), NEW_YORK).state == State.UP
    assert schedule.status(heartbeat, _at(2026, 11, 1, 8, 30), NEW_YORK).state == State.LATE
    # Read in UTC, the same expression would have been due five hours earlier.
    assert schedule.expected_at(heartbeat, zoneinfo.ZoneInfo("UTC")) == _at(2026, 11, 1, 3, 0)


def test_cron_on_weekdays_skips_the_weekend() -> None:
    friday = _at(2026, 11, 27, 18, 0, tz=PARIS)
    heartbeat = _heartbeat(schedule="cron", cron="0 18 * * mon-fri", grace_minutes=15, last_success_at=friday)
    heartbeat.last_ping_at = friday
    assert schedule.expected_at(heartbeat, PARIS) == _at(2026, 11, 30, 18, 0, tz=PARIS)
    assert schedule.status(heartbeat, _at(2026, 11, 29, 12, 0, tz=PARIS), PARIS).state == State.UP


def test_a_run_that_never_finishes_is_late_after_its_grace() -> None:
    ran, began = _at(2026, 11, 30, 3, 0, tz=PARIS), _at(2026, 12, 1, 3, 0, tz=PARIS)
    heartbeat = _heartbeat(
        schedule="cron", cron="0 3 * * *", grace_minutes=45, last_success_at=ran, last_ping_at=began, started_at=began
    )
    running = schedule.status(heartbeat, began + timedelta(minutes=44), PARIS)
    assert running.state == State.UP and running.running
    stuck = schedule.status(heartbeat, began + timedelta(minutes=45), PARIS)
    assert stuck.state == State.LATE and stuck.stuck


def test_a_failure_stays_failed_until_a_success() -> None:
    ran, failed = _at(2026, 11, 30, 3, 0), _at(2026, 12, 1, 3, 5)
    heartbeat = _heartbeat(period_minutes=1440, last_success_at=ran, last_failure_at=failed, last_ping_at=failed)
    assert schedule.status(heartbeat, failed + timedelta(minutes=1), PARIS).state == State.FAILED
    heartbeat.last_success_at = failed + timedelta(minutes=10)
    assert schedule.status(heartbeat, failed + timedelta(minutes=11), PARIS).state == State.UP


def test_the_schedule_counts_from_a_resume() -> None:
    ran, resumed = _at(2026, 11, 1, 12, 0), _at(2026, 11, 30, 12, 0)
    heartbeat = _heartbeat(period_minutes=60, last_success_at=ran, last_ping_at=ran, resumed_at=resumed)
    assert schedule.late_after(heartbeat, PARIS) == resumed + timedelta(minutes=70)
    heartbeat.paused = True
    assert schedule.status(heartbeat, resumed, PARIS).state == State.PAUSED


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("", "Enter a cron expression"),
        ("0 3 * *", "five fields"),
        ("0 0 3 * * *", "five fields"),
        ("0 3 * * * ; rm -rf /", "five fields"),
        ("0 3 * * $(id)", "Each field takes"),
        ("61 3 * * *", "Check each field's range"),
        ("0 0 30 2 *", "no time that ever comes"),
    ],
)
def test_the_cron_expressions_refused_say_why(expression: str, reason: str) -> None:
    assert reason in schedule.cron_problem(expression)


@pytest.mark.parametrize("expression", ["0 3 * * *", "*/15 9-17 * * 1-5", "@daily", "0 3 1,15 * *", " 0  3 * * sun "])
def test_the_usual_cron_expressions_are_taken(expression: str) -> None:
    assert schedule.cron_problem(expression) == ""


def test_the_schedule_in_words() -> None:
    assert schedule.describe_minutes(45) == "45 min"
    assert schedule.describe_minutes(90) == "1 h 30 min"
    assert schedule.describe_minutes(120) == "2 h"
    assert schedule.describe_minutes(1440) == "1 d"
