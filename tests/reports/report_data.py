"""Builders for the weekly-report tests: real probes turned into rollups by the real rollup code, and the
audit, incident, alert, deploy and watch records of a week."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from audits.models import AuditFinding, AuditRun
from launchready.models import Client, Domain, Route
from monitoring.models import Alert, AlertChannel, Deploy, Incident, Monitor, Probe, WatchEvent
from monitoring.rollup import rollup_day, rollup_hour
from monitoring.scheduler import sync_monitors
from reports.weeks import Period, period_for

WEEK = date(2026, 11, 16)  # the Monday the report is sent: it covers 9 to 15 November 2026
HOURS = (10, 11)  # hours of each day that get probes (enough for rollups, quick to build)
PROBES_PER_HOUR = 20


def monitors_of(client: Client) -> list[Monitor]:
    sync_monitors()
    return list(Monitor.objects.filter(client=client).order_by("id"))


def probe_days(monitor: Monitor, first_day: datetime, days: int, latency: float, failures_per_hour: int = 0) -> None:
    """Probes on `days` days from `first_day`, rolled up hour by hour and day by day by the product's code."""
    for d in range(days):
        day = first_day + timedelta(days=d)
        for hour in HOURS:
            start = day + timedelta(hours=hour)
            Probe.objects.bulk_create(
                [
                    Probe(
                        monitor=monitor,
                        at=start + timedelta(minutes=2 * i),
                        ok=i >= failures_per_hour,
                        status=200 if i >= failures_per_hour else 500,
                        latency_ms=latency if i >= failures_per_hour else None,
                        cause="" if i >= failures_per_hour else "status",
                    )
                    for i in range(PROBES_PER_HOUR)
                ]
            )
            rollup_hour(start)
        rollup_day(day)


def existed_since(client: Client, at: datetime) -> None:
    """The client was added at `at` (a report covers only the days since the client exists)."""
    if client.created > at:
        client.created = at
        Client.objects.filter(pk=client.pk).update(created=at)


def history(client: Client, weeks: int = 2, week: date = WEEK) -> Period:
    """`weeks` of rollups up to the reported week: 80 ms before it; in it, 450 ms with failures on the
    first monitor and 95 ms on the others."""
    period = period_for(client, week)
    existed_since(client, period.start - timedelta(days=7 * weeks))
    monitors = monitors_of(client)
    for n, monitor in enumerate(monitors):
        if weeks > 1:
            probe_days(monitor, period.start - timedelta(days=7 * (weeks - 1)), 7 * (weeks - 1), 80.0)
        probe_days(monitor, period.start, 7, 450.0 if n == 0 else 95.0, failures_per_hour=1 if n == 0 else 0)
    return period


def week_events(client: Client, domain: Domain, period: Period) -> None:
    """An outage, the alerts it sent, a deploy with a failed smoke test, DNS drift and an audit that fixed
    one finding and found another, all inside the reported week; and noise just outside it."""
    monitor = Monitor.objects.filter(client=client).order_by("id").first()
    assert monitor is not None
    start = period.start + timedelta(days=1, hours=14, minutes=2)
    Incident.objects.create(monitor=monitor, started_at=start, ended_at=start + timedelta(minutes=14), cause="timeout")
    Incident.objects.create(  # the week before: not this week's
        monitor=monitor,
        started_at=period.start - timedelta(days=2),
        ended_at=period.start - timedelta(days=2, hours=-1),
    )
    channel = AlertChannel.objects.create(client=client, kind="email", name="Founders")
    for kind, minutes in (("down", 3), ("up", 15)):
        Alert.objects.create(
            channel=channel, kind=kind, state="sent", sent_at=start + timedelta(minutes=minutes), dedupe_key=f"k{kind}"
        )
    Alert.objects.create(
        channel=channel, kind="down", state="sent", sent_at=period.end + timedelta(hours=1), dedupe_key="later"
    )
    Deploy.objects.create(
        client=client,
        version="v1.4.2",
        created=period.start + timedelta(days=3, hours=16),
        smoke="failed",
        smoke_results=[{"url": "https://app.example/login", "ok": False, "problem": "answered 502"}],
    )
    WatchEvent.objects.create(
        client=client,
        kind="dns_drift",
        key="dns:1",
        title=f"DNS records of {domain.name} changed since the approved baseline",
        created=period.start + timedelta(days=4),
    )
    before = AuditRun.objects.create(
        domain=domain,
        state="done",
        go=False,
        created=period.start - timedelta(days=3),
        finished_at=period.start - timedelta(days=3),
    )
    _finding(before, "email.dmarc.missing", "No DMARC record", "high", "new", 1)
    during = AuditRun.objects.create(
        domain=domain,
        state="done",
        go=False,
        created=period.start + timedelta(days=2),
        finished_at=period.start + timedelta(days=2),
    )
    _finding(during, "email.dmarc.missing", "No DMARC record", "high", "fixed", 1)
    _finding(during, "headers.hsts.missing", "HSTS is not set on app", "medium", "new", 2)
    _finding(during, "exposure.env_file", "The app serves its .env file", "blocker", "new", 0)
    AuditFinding.objects.create(
        run=during,
        check_id="tls.certificate",
        subject=f"www.{domain.name}",
        area="tls",
        severity="info",
        item="ssl",
        title="Certificate",
        explanation="",
        fix="",
        evidence={"not_after": (timezone.now() + timedelta(days=40, hours=1)).isoformat()},
        change="new",
    )


def _finding(run: AuditRun, check_id: str, title: str, severity: str, change: str, rank: int) -> None:
    AuditFinding.objects.create(
        run=run,
        check_id=check_id,
        subject=run.domain.name,
        area=check_id.split(".")[0],
        severity=severity,
        item="handover",
        title=title,
        explanation=f"Why {title.lower()} matters.",
        fix=f"How to fix {title.lower()}.",
        change=change,
        rank=rank,
    )


def add_routes(domain: Domain) -> list[Route]:
    return [
        Route.objects.create(domain=domain, host="", path="/", kind="homepage", expected_statuses=[200]),
        Route.objects.create(domain=domain, host="api", path="/health", kind="api_health", expected_statuses=[200]),
    ]
