"""The probe scheduler: claim the monitors that are due (safely across workers), probe them together
with asyncio through net.py, record the results and move each monitor's state."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from launchready.models import Route
from launchready.net import FetchError, Net, NetConfig, current_config, dns_cache_for
from monitoring import client_status, tallies
from monitoring.alerts import alerts_for_event
from monitoring.models import Alert, Incident, IncidentEvent, Monitor, Probe


def lease() -> timedelta:
    """How long a claim lasts: a dead worker's claims expire after it, so another worker takes them within
    one interval. The longest probe timeout (30 s) plus a margin by default."""
    return timedelta(seconds=getattr(settings, "MONITORING_LEASE_SECONDS", 40))


# Probes in flight at once. The event loop is CPU-bound at a few ms per probe: more in flight only
# inflates the latency each probe measures (and trips the latency budget falsely).
CONCURRENCY = 100
BODY_BYTES = 256 * 1024
CAUSE_OF_ERROR = {
    FetchError.DNS: Monitor.Cause.DNS,
    FetchError.TLS: Monitor.Cause.TLS,
    FetchError.CONNECT: Monitor.Cause.CONNECT,
    FetchError.TIMEOUT: Monitor.Cause.TIMEOUT,
    FetchError.PROTOCOL: Monitor.Cause.CONNECT,
    FetchError.REFUSED: Monitor.Cause.REFUSED,
}


@dataclass
class ProbeOutcome:
    monitor_id: int
    due_at: datetime
    at: datetime
    ok: bool
    status: int | None
    latency_ms: float | None
    cause: str
    error: str


def sync_monitors() -> int:
    """Give every route a monitor (routes made before monitoring existed, or by the admin)."""
    missing = Route.objects.filter(monitor__isnull=True).select_related("domain")
    monitors = [
        Monitor(
            client_id=route.domain.client_id,
            route=route,
            url=route.url,
            expected_statuses=route.expected_statuses or [200],
            keyword=route.keyword,
        )
        for route in missing
    ]
    Monitor.objects.bulk_create(monitors, ignore_conflicts=True)
    client_status.refresh({m.client_id for m in monitors})
    return len(monitors)


def claim_due(now: datetime, limit: int = 5000) -> list[Monitor]:
    """Claim up to `limit` due monitors; a monitor claimed by one worker is invisible to the others."""
    with transaction.atomic():
        due = (
            Monitor.objects.select_for_update(skip_locked=True)
            .filter(paused=False, next_due_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_due_at")
        )
        monitors = list(due[:limit])
        Monitor.objects.filter(id__in=[m.id for m in monitors]).update(claimed_until=now + lease())
    return monitors


async def probe(monitor: Monitor, net: Net, semaphore: asyncio.Semaphore, wait: float = 0.0) -> ProbeOutcome:
    if wait > 0:
        await asyncio.sleep(wait)  # claimed a little ahead: start on the due second, not at the next beat
    async with semaphore:
        started = time.monotonic()
        at = timezone.now()
        try:
            async with asyncio.timeout(monitor.timeout):
                result = await net.fetch(monitor.url, method=monitor.method, max_bytes=BODY_BYTES)
        except TimeoutError:
            return ProbeOutcome(
                monitor.id,
                monitor.next_due_at,
                at,
                False,
                None,
                None,
                Monitor.Cause.TIMEOUT,
                f"no answer within {monitor.timeout:g} s",
            )
        latency = (time.monotonic() - started) * 1000
    hop = result.final

    def outcome(ok: bool, cause: str = "", error: str = "") -> ProbeOutcome:
        latency_ms = latency if result.error is None else None
        return ProbeOutcome(monitor.id, monitor.next_due_at, at, ok, hop.status, latency_ms, cause, error[:200])

    if result.error is not None:
        return outcome(False, CAUSE_OF_ERROR.get(result.error, Monitor.Cause.CONNECT), hop.detail)
    expected = monitor.expected_statuses or [200]
    if hop.status not in expected:
        return outcome(False, Monitor.Cause.STATUS, f"answered {hop.status}, expected {', '.join(map(str, expected))}")
    if monitor.keyword and monitor.keyword.lower() not in result.text.lower():
        return outcome(False, Monitor.Cause.KEYWORD, f"“{monitor.keyword}” not found in the page")
    if latency > monitor.latency_budget_ms:
        return outcome(False, Monitor.Cause.SLOW, f"took {latency:.0f} ms, budget {monitor.latency_budget_ms} ms")
    return outcome(True)


async def probe_round(
    monitors: list[Monitor], config: NetConfig | None = None, now: datetime | None = None
) -> list[ProbeOutcome]:
    """Probe every claimed monitor concurrently, each bounded by its own timeout. Given `now`, a monitor
    due after it waits for its due time."""
    semaphore = asyncio.Semaphore(CONCURRENCY)
    # A probe round is not an audit: no DNS budget across thousands of monitors; each probe has its own timeout.
    config = replace(config or current_config(), max_dns_queries=10**9)
    async with Net(config, dns_cache=dns_cache_for(config)) as net:
        waits = [(m.next_due_at - now).total_seconds() if now else 0.0 for m in monitors]
        return await asyncio.gather(*(probe(m, net, semaphore, w) for m, w in zip(monitors, waits, strict=True)))


def record(monitors: list[Monitor], outcomes: list[ProbeOutcome], now: datetime) -> None:
    """Save the probes, move each monitor's state, open or close incidents, release the claims; the clients
    whose monitors changed state get their status rows refreshed."""
    by_id = {m.id: m for m in monitors}
    Probe.objects.bulk_create(
        [
            Probe(
                monitor_id=o.monitor_id,
                at=o.at,
                ok=o.ok,
                status=o.status,
                latency_ms=o.latency_ms,
                cause=o.cause,
                error=o.error,
                lag_ms=max(0.0, (o.at - o.due_at).total_seconds() * 1000),
            )
            for o in outcomes
        ]
    )
    down = {m.id for m in monitors if m.state == Monitor.State.DOWN}
    for outcome in outcomes:
        advance(by_id[outcome.monitor_id], outcome, now)
    save_states(monitors, outcomes)
    # A monitor that went down or came back changes its client's counts (and opened or closed an incident):
    # those clients' status rows are refreshed, once per round whatever their number.
    client_status.refresh({m.client_id for m in monitors if (m.state == Monitor.State.DOWN) != (m.id in down)})


STATE_FIELDS = (
    "state",
    "next_due_at",
    "claimed_until",
    "consecutive_failures",
    "consecutive_successes",
    "last_checked_at",
    "last_status",
    "last_latency_ms",
    "last_cause",
    "last_error",
)


def save_states(monitors: list[Monitor], outcomes: list[ProbeOutcome]) -> None:
    """One UPDATE per probe, sent as a single batch (psycopg pipelines executemany): its monitor's new state,
    and the probe counted in the monitor's tallies of the day (monitoring/tallies.py). Django's bulk_update
    builds a CASE-WHEN expression per field and row, which cost more CPU than the probes themselves."""
    if not outcomes:
        return
    by_id = {m.id: m for m in monitors}
    fields = [Monitor._meta.get_field(name) for name in STATE_FIELDS]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)  # type: ignore[union-attr, arg-type]
    table = connection.ops.quote_name(Monitor._meta.db_table)
    rows = [
        [f.get_db_prep_save(getattr(by_id[o.monitor_id], f.attname), connection) for f in fields]  # type: ignore[union-attr]
        + tallies.params(o.at, o.ok)
        + [o.monitor_id]
        for o in outcomes
    ]
    with connection.cursor() as cursor:
        sql = f"UPDATE {table} SET {assignments}, {tallies.SET_SQL} WHERE id = %s"  # noqa: S608 - names from the model  # nosec B608
        cursor.executemany(sql, rows)


def advance(monitor: Monitor, outcome: ProbeOutcome, now: datetime) -> None:
    """The state machine: down after `alert_after` failures in a row, up after `recover_after` successes."""
    monitor.last_checked_at, monitor.last_status = outcome.at, outcome.status
    monitor.last_latency_ms, monitor.last_cause, monitor.last_error = outcome.latency_ms, outcome.cause, outcome.error
    monitor.claimed_until = None
    step = timedelta(seconds=monitor.interval)
    # Keep the cadence; after a long stop, start again from now rather than probing in a burst.
    monitor.next_due_at = max(monitor.next_due_at + step, now)
    if outcome.ok:
        monitor.consecutive_successes += 1
        monitor.consecutive_failures = 0
        if monitor.state == Monitor.State.DOWN and monitor.consecutive_successes >= monitor.recover_after:
            monitor.state = Monitor.State.UP
            close_incident(monitor, outcome.at)
        elif monitor.state == Monitor.State.UNKNOWN:
            monitor.state = Monitor.State.UP
        return
    monitor.consecutive_failures += 1
    monitor.consecutive_successes = 0
    if monitor.state != Monitor.State.DOWN and monitor.consecutive_failures >= monitor.alert_after:
        monitor.state = Monitor.State.DOWN
        open_incident(monitor, outcome)


def open_incident(monitor: Monitor, outcome: ProbeOutcome) -> Incident:
    first = outcome.at - timedelta(seconds=monitor.interval * (monitor.consecutive_failures - 1))
    incident = Incident.objects.create(monitor=monitor, started_at=first, cause=outcome.cause, detail=outcome.error)
    IncidentEvent.objects.bulk_create(
        [
            IncidentEvent(incident=incident, at=first, kind=IncidentEvent.Kind.FIRST_FAILURE, detail=outcome.error),
            IncidentEvent(
                incident=incident,
                at=outcome.at,
                kind=IncidentEvent.Kind.OPENED,
                detail=f"{monitor.consecutive_failures} failures in a row",
            ),
        ]
    )
    alerts_for_event(incident, Alert.Kind.DOWN, at=outcome.at)
    return incident


def close_incident(monitor: Monitor, at: datetime) -> None:
    for incident in Incident.objects.filter(monitor=monitor, ended_at__isnull=True):
        incident.ended_at = at
        incident.save(update_fields=["ended_at"])
        IncidentEvent.objects.create(
            incident=incident,
            at=at,
            kind=IncidentEvent.Kind.RECOVERED,
            detail=f"{monitor.consecutive_successes} successes in a row",
        )
        alerts_for_event(incident, Alert.Kind.UP, at=at)


def tick(
    now: datetime | None = None, config: NetConfig | None = None, limit: int = 5000, lookahead: float = 0.0
) -> int:
    """One round: claim what is due (and, with `lookahead`, what falls due within that many seconds, each
    then probed on its due time), probe it all at once, record. Returns how many were probed."""
    now = now or timezone.now()
    monitors = claim_due(now + timedelta(seconds=lookahead), limit)
    if not monitors:
        return 0
    outcomes = asyncio.run(probe_round(monitors, config, now if lookahead else None))
    record(monitors, outcomes, timezone.now())
    return len(monitors)
