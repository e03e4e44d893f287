"""Journeys as monitors: a periodic tick claims the enabled journeys that are due (safely across workers, as
the probe scheduler claims monitors), runs them concurrently, each with a Net and a cookie jar of its own, keeps
each run, and moves each journey's state: failing after `alert_after` failed runs in a row (an alert naming the
failing step) with an incident whose timeline names that step, passing again after `recover_after` (a
recovery alert, the incident closed), each outage alerted once; the round's timings go into the journeys'
rollups (monitoring/journey_rollup.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from launchready import status
from launchready.net import NetConfig
from launchready.timing import LagMeter
from monitoring import journey_incidents, journey_rollup
from monitoring.journey_runner import JOURNEY_DEADLINE, ROUND_METER, JourneyResult, run_journey
from monitoring.journey_steps import JourneySpec
from monitoring.journeys import journey_spec, record_run
from monitoring.models import Journey, JourneyRun, JourneyStep, Monitor

CONCURRENCY = 20  # journeys in flight at once in one round
LEASE = timedelta(seconds=JOURNEY_DEADLINE + 30)  # a dead worker's claims expire after it


def claim_due(now: datetime, limit: int = 2000) -> list[Journey]:
    """Claim up to `limit` due journeys with steps; a journey claimed by one worker is invisible to the others."""
    with transaction.atomic():
        due = (
            Journey.objects.select_for_update(skip_locked=True)
            .filter(enabled=True, next_due_at__lte=now)
            .filter(Exists(JourneyStep.objects.filter(journey=OuterRef("pk"))))
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_due_at")
        )
        journeys = list(due[:limit])
        Journey.objects.filter(id__in=[j.id for j in journeys]).update(claimed_until=now + LEASE)
    return journeys


async def run_round(
    specs: list[JourneySpec],
    config: NetConfig | None = None,
    due: list[datetime | None] | None = None,
    now: datetime | None = None,
) -> list[JourneyResult]:
    """Run the journeys at once, each not before its due time (claimed a little ahead, it starts on its due
    second, not at the next beat), at most CONCURRENCY in flight. Due times count from the round's `now`,
    the instant the tick claimed at, so a round run for a past or future instant waits only the gap."""
    origin = now or timezone.now()
    loop = asyncio.get_running_loop()
    began = loop.time()
    semaphore = asyncio.Semaphore(CONCURRENCY)
    meter = LagMeter()  # latency budgets judge the app, not how busy this loop was
    meter.acquire()
    ROUND_METER.set(meter)  # the journeys' tasks start with this context

    async def one(spec: JourneySpec, at: datetime | None) -> JourneyResult:
        wait = (at - origin).total_seconds() - (loop.time() - began) if at is not None else 0.0
        if wait > 0:
            await asyncio.sleep(wait)
        async with semaphore:
            return await run_journey(spec, config)

    try:
        dues = due or [None for _ in specs]
        return list(await asyncio.gather(*(one(s, d) for s, d in zip(specs, dues, strict=True))))
    finally:
        meter.release()


def tick(
    now: datetime | None = None, config: NetConfig | None = None, limit: int = 2000, lookahead: float = 0.0
) -> int:
    """One round: claim what is due, and with `lookahead` seconds what falls due before the next beat too;
    run each on its due second, all in one round; record. Returns how many journeys ran."""
    now = now or timezone.now()
    journeys = claim_due(now + timedelta(seconds=lookahead), limit)
    if not journeys:
        return 0
    specs = [journey_spec(j) for j in journeys]
    results = asyncio.run(run_round(specs, config, [j.next_due_at for j in journeys], now))
    runs = []
    with status.batched():  # the status rows of the clients whose journeys changed state: refreshed once, at the end
        for journey, result in zip(journeys, results, strict=True):
            run = record_run(journey, result, JourneyRun.Trigger.MONITOR)
            advance(journey, run, now)
            runs.append(run)
    journey_rollup.add_runs(runs)
    return len(journeys)


def advance(journey: Journey, run: JourneyRun, now: datetime) -> None:
    """The state machine, as a monitor's; the journey's row saved with its new state and released (its state
    written only when it moved: the client's status row is refreshed then, monitoring/signals.py)."""
    was = journey.state
    journey.claimed_until = None
    journey.last_run_at = run.started_at
    journey.next_due_at = max(journey.next_due_at + timedelta(seconds=journey.interval), now)
    if run.ok:
        journey.consecutive_successes += 1
        journey.consecutive_failures = 0
        if journey.state == Monitor.State.DOWN and journey.consecutive_successes >= journey.recover_after:
            journey.state = Monitor.State.UP
            closed = journey_incidents.close_incidents(journey, run)
            journey_incidents.tell(journey, run, "up", closed[0] if closed else None, run.started_at)
        elif journey.state == Monitor.State.UNKNOWN:
            journey.state = Monitor.State.UP
    else:
        journey.consecutive_failures += 1
        journey.consecutive_successes = 0
        if journey.state != Monitor.State.DOWN and journey.consecutive_failures >= journey.alert_after:
            journey.state = Monitor.State.DOWN
            journey.outages += 1
            incident = journey_incidents.open_incident(journey, run)
            journey_incidents.tell(journey, run, "down", incident, run.started_at)
    fields = ["claimed_until", "last_run_at", "next_due_at", "consecutive_successes", "consecutive_failures"]
    journey.save(update_fields=fields + (["state", "outages"] if journey.state != was else []))
