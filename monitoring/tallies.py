"""Each monitor's probes of the two latest days (UTC), counted on its own row as they are recorded.

The overview shows every client's uptime over 30 days: the settled days from the daily rollups (summed once a
day and cached, monitoring/summary.py) and the two live days from here, so that a page of fifty clients reads
its monitors' rows instead of their raw probes and the rollups still being rebuilt. Each probe is counted by
the statement that saves its monitor's state (scheduler.save_states), in SQL, so two rounds that race on one
monitor cannot lose a count; the counts are the raw probes' own. `recount` sets them again from what is stored
(rollups and raw probes, the way every other uptime figure reads a window), for monitors whose probes were
recorded before the counts were kept."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from monitoring.models import Monitor
from monitoring.rollup import DAY, day_start, windows

ONE_DAY = timedelta(days=1)
FIELDS = ("tally_day", "tally_probes", "tally_failures", "tally_prev_probes", "tally_prev_failures")

# The SET clause that counts one probe of day d (failed f: 0 or 1); every expression reads the row as it was
# before the statement. Its parameters, in order, come from `params`. A probe of a later day moves the day on
# (the day before becomes `prev`, an older one is dropped); a late probe of the day before is added to `prev`;
# anything older is no longer live and is left to the rollups.
SET_SQL = (
    "tally_prev_probes = CASE WHEN tally_day = %s THEN tally_prev_probes WHEN tally_day = %s THEN tally_probes"
    " WHEN tally_day = %s THEN tally_prev_probes + 1 WHEN tally_day IS NULL OR tally_day < %s THEN 0"
    " ELSE tally_prev_probes END, "
    "tally_prev_failures = CASE WHEN tally_day = %s THEN tally_prev_failures WHEN tally_day = %s THEN tally_failures"
    " WHEN tally_day = %s THEN tally_prev_failures + %s WHEN tally_day IS NULL OR tally_day < %s THEN 0"
    " ELSE tally_prev_failures END, "
    "tally_probes = CASE WHEN tally_day = %s THEN tally_probes + 1 WHEN tally_day IS NULL OR tally_day < %s THEN 1"
    " ELSE tally_probes END, "
    "tally_failures = CASE WHEN tally_day = %s THEN tally_failures + %s WHEN tally_day IS NULL OR tally_day < %s"
    " THEN %s ELSE tally_failures END, "
    "tally_day = CASE WHEN tally_day IS NULL OR tally_day < %s THEN %s ELSE tally_day END"
)


def params(at: datetime, ok: bool) -> list[Any]:
    """The parameters of SET_SQL for one probe started at `at`."""
    day = day_start(at).date()
    d, p, n = (connection.ops.adapt_datefield_value(x) for x in (day, day - ONE_DAY, day + ONE_DAY))
    f = 0 if ok else 1
    return [d, p, n, p, d, p, n, f, p, d, d, d, f, d, f, d, d]


def live_days(
    tally_day: date | None, probes: int, failures: int, prev_probes: int, prev_failures: int, today: date
) -> dict[date, tuple[int, int]]:
    """(probes, failures) of today and yesterday from a monitor's counts, as of `today`: counts of a day that is
    no longer one of the two latest are not live."""
    if tally_day == today:
        return {today: (probes, failures), today - ONE_DAY: (prev_probes, prev_failures)}
    if tally_day == today - ONE_DAY:
        return {tally_day: (probes, failures)}
    return {}


def live_expressions(today: date, since: date) -> tuple[Case, Case]:
    """`live_days` in SQL, summed: each monitor's probes and failures of today and yesterday (yesterday's only when
    it is on or after `since`), to annotate a queryset of monitors with."""
    yesterday = today - ONE_DAY
    counted = yesterday >= since

    def total(current: str, previous: str) -> Case:
        return Case(
            When(tally_day=today, then=F(current) + F(previous) if counted else F(current)),
            When(tally_day=yesterday, then=F(current) if counted else Value(0)),
            default=Value(0),
            output_field=IntegerField(),
        )

    return total("tally_probes", "tally_prev_probes"), total("tally_failures", "tally_prev_failures")


def monitor_ids(client_ids: list[int]) -> list[int]:
    return list(Monitor.objects.filter(client_id__in=client_ids).order_by("id").values_list("id", flat=True))


def recount(monitor_ids: list[int] | None = None, now: datetime | None = None, batch: int = 500) -> int:
    """Set the counts of these monitors (all, by default) from the rollups and raw probes of today and yesterday,
    as monitoring.rollup.windows reads them; each batch's rows are locked meanwhile, so a probe round recording at
    the same moment waits and is then counted on top. Returns the monitors counted."""
    now = now or timezone.now()
    today = day_start(now)
    yesterday = today - DAY
    ids = list(Monitor.objects.values_list("id", flat=True)) if monitor_ids is None else list(monitor_ids)
    done = 0
    for i in range(0, len(ids), batch):
        with transaction.atomic():
            locked = list(
                Monitor.objects.select_for_update().filter(id__in=ids[i : i + batch]).values_list("id", flat=True)
            )
            before = windows(locked, yesterday, today, now)
            during = windows(locked, today, now, now)
            Monitor.objects.bulk_update(
                [
                    Monitor(
                        id=mid,
                        tally_day=today.date(),
                        tally_probes=during[mid].probes,
                        tally_failures=during[mid].failures,
                        tally_prev_probes=before[mid].probes,
                        tally_prev_failures=before[mid].failures,
                    )
                    for mid in locked
                ],
                list(FIELDS),
            )
        done += len(locked)
    return done
