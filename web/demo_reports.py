"""The demo workspace's weekly reports: three weeks of monitoring history for its routes (hourly and daily
rollups, an outage and a deploy), so that a newcomer's report preview has numbers and trends at once, and
last week's report sent and kept in the history."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.core.mail import get_connection
from django.utils import timezone

from launchready.models import Client, Route
from monitoring import histogram
from monitoring.models import Alert, AlertChannel, Deploy, Incident, IncidentEvent, Monitor, Rollup
from monitoring.rollup import day_start, hour_start
from monitoring.scheduler import sync_monitors
from monitoring.tallies import monitor_ids, recount
from reports.mail import deliver, report_create
from reports.weeks import client_zone, week_of

# Typical latency per route kind (ms) and how much slower this week is than the weeks before.
BASE_MS = {Route.Kind.HOMEPAGE: 140, Route.Kind.LOGIN: 210, Route.Kind.DASHBOARD: 260, Route.Kind.API_HEALTH: 60}
SLOWER_THIS_WEEK = {"Studiokit": 1.9}
PROBES_PER_HOUR = 60


def seed_report_history(clients: list[Client], now: datetime | None = None) -> None:
    now = now or timezone.now()
    sync_monitors()
    for client in clients:
        _history(client, now)
        _send_last_report(client, now)
    # The history is written past the probe recorder: its last two days counted as the recorder would have.
    recount(monitor_ids([c.id for c in clients]), now)


def _history(client: Client, now: datetime) -> None:
    rng = random.Random(client.name)  # noqa: S311 - demo latencies, the same on every machine  # nosec B311
    tz = client_zone(client)
    this_week = week_of(now, tz)
    start = day_start(now - timedelta(days=(now.date() - this_week).days + 21))
    last_hour = hour_start(now) - timedelta(hours=1)  # the current hours come from real probes
    # The demo's client has been watched for three weeks: it was added when its history starts, so its
    # reports may cover those weeks (no report covers a week before its client existed).
    Client.objects.filter(pk=client.pk, created__gt=start).update(created=start)
    client.created = min(client.created, start)
    monitors = list(Monitor.objects.filter(client=client).select_related("route"))
    outage = start + timedelta(days=15, hours=14) if client.name.startswith("Brightpath") else None
    hours: list[Rollup] = []
    for monitor in monitors:
        base = BASE_MS.get(Route.Kind(monitor.route.kind), 180)
        at = start
        while at < last_hour:
            recent = at >= start + timedelta(days=14)
            factor = SLOWER_THIS_WEEK.get(client.name, 1.0) if recent else 1.0
            failures = 9 if outage and at == outage and monitor.route.kind == Route.Kind.HOMEPAGE else 0
            hist = histogram.empty()
            for _ in range(PROBES_PER_HOUR - failures):
                histogram.add(hist, base * factor * rng.lognormvariate(0, 0.35))
            hours.append(
                Rollup(
                    monitor=monitor,
                    period=Rollup.Period.HOUR,
                    start=at,
                    probes=PROBES_PER_HOUR,
                    failures=failures,
                    histogram=hist,
                )
            )
            at += timedelta(hours=1)
    Rollup.objects.bulk_create(hours, ignore_conflicts=True)
    _days(monitors, start, day_start(last_hour))
    if outage is not None:
        home = next((m for m in monitors if m.route.kind == Route.Kind.HOMEPAGE), None)
        if home is not None:
            incident = Incident.objects.create(
                monitor=home,
                started_at=outage + timedelta(minutes=12),
                ended_at=outage + timedelta(minutes=21),
                cause=Monitor.Cause.TIMEOUT,
                detail="no answer within 10 s",
            )
            IncidentEvent.objects.create(incident=incident, at=incident.started_at, kind=IncidentEvent.Kind.OPENED)
            IncidentEvent.objects.create(
                incident=incident, at=outage + timedelta(minutes=21), kind=IncidentEvent.Kind.RECOVERED
            )
            _alerts_sent(incident)
        Deploy.objects.create(
            client=client,
            version="v2.3.0",
            commit="9f2c1e7a",
            created=outage + timedelta(days=1, hours=3),
            smoke=Deploy.Smoke.PASSED,
            smoke_finished_at=outage + timedelta(days=1, hours=3, minutes=1),
        )


def _alerts_sent(incident: Incident) -> None:
    """The alerts the product would have sent for the seeded outage, to each of the client's channels, with
    their lines on the timeline: a past outage that told nobody would be a story the demo does not tell."""
    ended = incident.ended_at or incident.started_at
    for channel in AlertChannel.objects.filter(client_id=incident.monitor.client_id, enabled=True):
        for kind, at in ((Alert.Kind.DOWN, incident.started_at), (Alert.Kind.UP, ended)):
            sent = at + timedelta(seconds=2)
            Alert.objects.create(
                channel=channel,
                client_id=incident.monitor.client_id,
                incident=incident,
                kind=kind,
                dedupe_key=f"incident:{incident.id}:{kind}:0",
                state=Alert.State.SENT,
                created=at,
                sent_at=sent,
            )
            IncidentEvent.objects.create(
                incident=incident,
                at=sent,
                kind=IncidentEvent.Kind.ALERT_SENT,
                detail=f"{Alert.Kind(kind).label} alert sent to {channel}",
            )


def _days(monitors: list[Monitor], first: datetime, last: datetime) -> None:
    """Daily rollups of the whole days, merged from the hourly ones as the rollup task does."""
    days: list[Rollup] = []
    rows = Rollup.objects.filter(monitor__in=monitors, period=Rollup.Period.HOUR, start__gte=first, start__lt=last)
    counts: dict[tuple[int, datetime], list[int]] = {}
    hists: dict[tuple[int, datetime], list[int]] = {}
    for mid, at, n, f, hist in rows.values_list("monitor_id", "start", "probes", "failures", "histogram"):
        key = (mid, day_start(at))
        total = counts.setdefault(key, [0, 0])
        total[0] += n
        total[1] += f
        hists[key] = histogram.merge([hists.get(key, histogram.empty()), hist])
    for (mid, day), (n, f) in counts.items():
        days.append(
            Rollup(
                monitor_id=mid, period=Rollup.Period.DAY, start=day, probes=n, failures=f, histogram=hists[(mid, day)]
            )
        )
    Rollup.objects.bulk_create(days, ignore_conflicts=True)


def _send_last_report(client: Client, now: datetime) -> None:
    """This week's report (on last week), through the same claimed send as every other; the demo's
    addresses are not real, so the message goes to a backend that keeps it in memory only."""
    week = week_of(now, client_zone(client))
    report = report_create(client=client, sent_week=week)
    deliver(report.id, connection=get_connection("django.core.mail.backends.locmem.EmailBackend"))
