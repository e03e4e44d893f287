"""The weekly status report's facts: for a client and a week, uptime and p95 per route with the trend against
the week before, incidents, journeys (runs passed, p95 of the journey and of each step) and their outages,
background jobs late or failing, alerts sent, certificate expiry, drift, findings fixed and new, deploys and the
next steps. Built for any number of clients in a fixed number of queries per time zone, whatever the history.

The facts come out as plain JSON (numbers and the words to show them), so that what was sent can be kept as
a snapshot and rendered again exactly."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from audits import selectors as audits
from audits.findings import LaunchVerdict, Severity
from launchready.formatting import (
    MINUTE,
    Observed,
    clock,
    duration,
    latency,
    long_date,
    moment,
    percent,
    plural,
    same_day,
    span,
    uptime_span,
    uptime_text,
)
from launchready.models import Client, Route
from monitoring import selectors as monitoring
from reports.weeks import WEEK, Period, client_zone, covered, first_week, period_for, week_label, week_of

NEXT_STEPS = 3
TREND_RATIO = monitoring.REGRESSION_RATIO  # a p95 a fifth slower (or faster) than last week is a trend; less is noise
CERT_WARN_DAYS = 30
CERT_STOP_DAYS = 14
ROUTE_ORDER = [
    Route.Kind.HOMEPAGE,
    Route.Kind.LOGIN,
    Route.Kind.DASHBOARD,
    Route.Kind.CHECKOUT,
    Route.Kind.API_HEALTH,
    Route.Kind.AUTH_CALLBACK,
    Route.Kind.WEBHOOK,
    Route.Kind.OTHER,
]
SEVERITY_LABEL = {s.value: s.value.capitalize() for s in Severity}
WHOLE_WEEK = "the whole week"
NO_DATA = "no data"


# --- words for the week's figures --------------------------------------------------------------------


def uptime_words(seen: Observed, full_week: bool = True) -> dict[str, Any]:
    """The uptime figure and the time it covers, as every surface of the report prints them: "the whole week"
    only when the monitors watched all of a full week, else how long they watched."""
    whole = WHOLE_WEEK if full_week else f"over {span(seen.window_seconds)}"
    if not full_week and seen.window_seconds < MINUTE:
        whole = "in under a minute"
    over = "" if not seen.probes or (seen.whole_window and full_week) else uptime_span(seen, whole)
    figure = percent(seen.uptime, none=NO_DATA)
    return {
        "uptime": figure,
        "uptime_value": seen.uptime,
        "uptime_text": f"{figure} {over}" if over else uptime_text(seen, WHOLE_WEEK),
        "uptime_over": over,
    }


def trend(now: float | None, before: float | None) -> tuple[str, str]:
    """A p95 against last week's: (slower | faster | steady | new, the words for it)."""
    if now is None:
        return "none", "no traffic measured"
    if before is None:
        return "new", "no figure for last week"
    change = (now - before) / before * 100 if before else 0.0
    if now >= before * TREND_RATIO:
        return "slower", f"slower: {latency(before)} last week (+{change:.0f}%)"
    if now * TREND_RATIO <= before:
        return "faster", f"faster: {latency(before)} last week ({change:.0f}%)"
    return "steady", f"steady: {latency(before)} last week"


# --- the report ---------------------------------------------------------------------------------------


def build_report(client: Client, sent_week: date, now: datetime | None = None) -> dict[str, Any]:
    return build_reports([client], sent_week, now)[client.id]


def build_reports(
    clients: Iterable[Client], sent_week: date | None = None, now: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """The report of each client for the week before `sent_week` (default: the week it is now, in each
    client's time zone, or for a client added since, the week it was added). Clients whose weeks line up are
    built together, in a fixed number of queries."""
    now = now or timezone.now()
    groups: dict[Period, list[Client]] = defaultdict(list)
    for client in clients:
        week = sent_week or first_week(client, week_of(now, client_zone(client)))
        groups[period_for(client, week)].append(client)
    out: dict[int, dict[str, Any]] = {}
    for period, members in groups.items():
        out.update(_build_group(members, period, now))
    return out


def _build_group(clients: list[Client], period: Period, now: datetime) -> dict[int, dict[str, Any]]:
    ids = [c.id for c in clients]
    facts = _Facts(ids, period, now)
    return {c.id: _report(c, period, facts, now) for c in clients}


class _Facts:
    """Everything the reports of a group of clients need, read in one pass of bounded queries."""

    def __init__(self, ids: list[int], period: Period, now: datetime) -> None:
        start, end = period.start, period.end
        self.monitors: dict[int, list[monitoring.MonitorFacts]] = defaultdict(list)
        for monitor in monitoring.monitors(ids):
            self.monitors[monitor.client_id].append(monitor)
        monitor_ids = [m.id for ms in self.monitors.values() for m in ms]
        self.this_week = monitoring.windows(monitor_ids, start, end, now)
        self.last_week = monitoring.windows(monitor_ids, start - WEEK, start, now)
        self.incidents: dict[int, list[monitoring.IncidentFacts]] = defaultdict(list)
        # Routes down now (open incidents, whatever the week) come with the week's: a report never calls a
        # week calm while a route is down.
        down: dict[int, set[int]] = defaultdict(set)
        for incident in monitoring.incidents(ids, start, end):
            if incident.ended_at is None:
                down[incident.client_id].add(incident.monitor_id)
            if incident.started_at < end:
                self.incidents[incident.client_id].append(incident)
        self.down_now = {client_id: len(monitors) for client_id, monitors in down.items()}
        self.alerts = monitoring.sent_alerts(ids, start, end)
        self.journeys: dict[int, list[monitoring.JourneyFacts]] = defaultdict(list)
        for journey in monitoring.journeys(ids):
            self.journeys[journey.client_id].append(journey)
        journey_ids = [j.id for js in self.journeys.values() for j in js]
        self.journey_week = monitoring.journey_windows(journey_ids, start, end)
        self.journey_last_week = monitoring.journey_windows(journey_ids, start - WEEK, start)
        self.journey_outages: dict[int, list[monitoring.JourneyOutageFacts]] = defaultdict(list)
        for journey_outage in monitoring.journey_outages(journey_ids, start, end):
            if journey_outage.started_at < end:
                self.journey_outages[journey_outage.client_id].append(journey_outage)
        self.jobs: dict[int, list[monitoring.HeartbeatOutageFacts]] = defaultdict(list)
        for outage in monitoring.heartbeat_outages(ids, start, end):
            if outage.started_at < end:
                self.jobs[outage.client_id].append(outage)
        latest = audits.latest_audits(ids)
        self.audited, self.unfinished = latest.audited, latest.unfinished
        # The latest repository scan's findings are on the risk list: a committed key is a blocker here too.
        self.open = {
            client_id: [{"title": r.title, "severity": r.severity, "why": r.explanation, "fix": r.fix} for r in risks]
            for client_id, risks in audits.open_risks(ids, latest.runs).items()
        }
        self.certificates = audits.certificate_expiries(latest.runs)
        self.changes = audits.finding_changes(ids, start, end)
        self.drift: dict[int, list[monitoring.WatchEventFacts]] = defaultdict(list)
        for event in monitoring.drift_events(ids, start, end):
            self.drift[event.client_id].append(event)
        self.senders = audits.senders_of(ids, start.date(), end.date())
        self.deploys: dict[int, list[monitoring.DeployFacts]] = defaultdict(list)
        for deploy in monitoring.deploys(ids, start, end, now):
            self.deploys[deploy.client_id].append(deploy)


def _senders(shown: audits.Senders | None) -> dict[str, Any] | None:
    """Who sent as the client in the week, from its DMARC reports; None when no report covered the week."""
    if shown is None or not shown.has_data:
        return None
    failing = shown.failing
    return {
        "messages": shown.messages,
        "sources": shown.source_count,
        "reporters": shown.reporters,
        "dmarc_rate": shown.dmarc_rate,
        "failing_count": len(failing),
        "failing": [
            {"name": s.name, "ip": s.source_ip, "messages": s.messages, "dmarc_rate": s.dmarc_rate, "advice": s.advice}
            for s in failing[:NEXT_STEPS]
        ],
        "policy_advice": shown.policy_advice,
        "next_records": [{"name": f"_dmarc.{domain}", "record": record} for domain, record in shown.next_records],
    }


def _route_key(monitor: monitoring.MonitorFacts) -> tuple[int, str]:
    kind = monitor.route.kind
    return (ROUTE_ORDER.index(Route.Kind(kind)) if kind in Route.Kind.values else len(ROUTE_ORDER), monitor.url)


def _report(client: Client, period: Period, facts: _Facts, now: datetime) -> dict[str, Any]:
    tz = client_zone(client)
    begin, end = covered(client, period, now)
    length = end - begin
    monitors = facts.monitors.get(client.id, [])
    full_week = begin == period.start and end == period.end
    routes = _routes(monitors, facts, length, full_week)
    incidents = _incidents(facts.incidents.get(client.id, []), period, tz, now)
    open_risks = facts.open.get(client.id, [])
    blockers = sum(1 for f in open_risks if f["severity"] == Severity.BLOCKER)
    probes = sum(r["probes"] for r in routes)
    weeks = [(facts.this_week[m.id], m.interval) for m in monitors]
    seen = monitoring.observed(((w.probes, w.failures, interval) for w, interval in weeks), length)
    down_now = facts.down_now.get(client.id, 0)
    downtime = sum(i["seconds_in_week"] for i in incidents)
    alerts = facts.alerts.get(client.id, [])
    fixed, new = _changes(facts.changes.get(client.id, []))
    audited = client.id in facts.audited
    data: dict[str, Any] = {
        "client": client.name,
        "client_code": str(client.code),
        "timezone": client.timezone,
        "generated_at": now.isoformat(),
        "week": {
            "number": period.first_day.isocalendar().week,
            "year": period.first_day.isocalendar().year,
            "label": week_label(client, period),
            "partial": begin > period.start,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "sent_week": period.sent_week.isoformat(),
        },
        "summary": {
            **uptime_words(seen, full_week),
            "probes": probes,
            "down_now": down_now,
            "routes": len(routes),
            "incidents": len(incidents),
            "downtime": duration(downtime) if downtime else "none",
            "alerts": sum(n for _, n in alerts),
            "deploys": len(facts.deploys.get(client.id, [])),
            "blockers": blockers,
            "open_risks": len(open_risks),
            "go": (blockers == 0) if audited else (False if blockers else None),  # a committed key is no-go
            "audit_unfinished": client.id in facts.unfinished,
            # The launch verdict in words the emails and pages share: never "go" while part of the audit
            # could not look (no route answered, a check failed, DNS did not answer).
            "verdict": LaunchVerdict.of(blockers, client.id in facts.unfinished).value if audited or blockers else "",
        },
        "routes": routes,
        "incidents": incidents,
        "journeys": _journeys(facts.journeys.get(client.id, []), facts),
        "journey_outages": _journey_outages(facts.journey_outages.get(client.id, []), tz, now),
        "jobs": _jobs(facts.jobs.get(client.id, []), tz, now),
        "alerts": [{"label": label, "count": n} for label, n in alerts],
        "certificates": _certificates(facts.certificates.get(client.id, []), now),
        "drift": [
            {"kind": event.kind_label, "title": event.title, "when": moment(event.created, tz)}
            for event in facts.drift.get(client.id, [])
        ],
        "fixed": fixed,
        "new": new,
        "deploys": [_deploy(d, tz) for d in facts.deploys.get(client.id, [])],
        "deploy_regressions": _deploy_regressions(facts.deploys.get(client.id, []), tz),
        "senders": _senders(facts.senders.get(client.id)),
        "next_steps": [
            {**f, "severity_label": SEVERITY_LABEL.get(f["severity"], f["severity"])} for f in open_risks[:NEXT_STEPS]
        ],
    }
    data["summary"]["headline"] = headline(data)
    return data


def _routes(
    monitors: list[monitoring.MonitorFacts], facts: _Facts, length: timedelta, full_week: bool
) -> list[dict[str, Any]]:
    rows = []
    for monitor in sorted(monitors, key=_route_key):
        this, last = facts.this_week[monitor.id], facts.last_week[monitor.id]
        p95, p95_before = this.percentile(0.95), last.percentile(0.95)
        direction, words = trend(p95, p95_before)
        rows.append(
            {
                "url": monitor.route.display_url,
                "kind": monitor.route.get_kind_display(),
                **uptime_words(
                    monitoring.observed([(this.probes, this.failures, monitor.interval)], length), full_week
                ),
                "probes": this.probes,
                "failures": this.failures,
                "unknown": duration(this.unknown_seconds) if this.unknown_seconds else "",
                "p95": latency(p95),
                "p95_value": p95,
                "p95_last_week": latency(p95_before),
                "p95_last_week_value": p95_before,
                "trend": direction,
                "trend_text": words,
                "paused": monitor.paused,
            }
        )
    return rows


def _incidents(
    incidents: list[monitoring.IncidentFacts], period: Period, tz: zoneinfo.ZoneInfo, now: datetime
) -> list[dict[str, Any]]:
    rows = []
    for incident in incidents:
        ended = incident.ended_at
        until = min(ended or now, period.end)
        rows.append(
            {
                "url": incident.route.display_url,
                "kind": incident.route.get_kind_display(),
                "started": moment(incident.started_at, tz),
                "ended": (clock(ended, tz) if same_day(ended, incident.started_at, tz) else moment(ended, tz))
                if ended
                else "",
                "ongoing": ended is None,
                "duration": duration(((ended or now) - incident.started_at).total_seconds()),
                "seconds_in_week": max((until - max(incident.started_at, period.start)).total_seconds(), 0),
                "cause": incident.cause_label or "Unknown",
            }
        )
    return rows


def _journeys(journeys: list[monitoring.JourneyFacts], facts: _Facts) -> list[dict[str, Any]]:
    """The week of each journey that ran as a monitor (or is one): its scheduled runs passed, its p95 against
    last week's, and each step's p95."""
    rows = []
    for journey in journeys:
        this, last = facts.journey_week[journey.id], facts.journey_last_week[journey.id]
        if not journey.enabled and not this.runs:
            continue
        p95, p95_before = this.p95, last.p95
        direction, words = trend(p95, p95_before)
        rows.append(
            {
                "name": journey.name,
                "runs": this.runs,
                "failures": this.failures,
                "uptime": percent(this.uptime, none=NO_DATA),
                "uptime_value": this.uptime,
                "passed": f"{this.runs - this.failures:,} of {plural(this.runs, 'run')} passed"
                if this.runs
                else "no scheduled run this week",
                "p95": latency(p95),
                "p95_value": p95,
                "p95_last_week": latency(p95_before),
                "p95_last_week_value": p95_before,
                "trend": direction,
                "trend_text": words,
                "steps": [
                    {"number": i + 1, "name": name, "p95": latency(this.step_p95(i)), "p95_value": this.step_p95(i)}
                    for i, name in enumerate(journey.steps)
                ],
            }
        )
    return rows


def _journey_outages(
    outages: list[monitoring.JourneyOutageFacts], tz: zoneinfo.ZoneInfo, now: datetime
) -> list[dict[str, Any]]:
    """The week's journey outages, oldest first, each with the step that failed."""
    return [{**_outage(o, tz, now), "step": o.step} for o in outages]


def _jobs(outages: list[monitoring.HeartbeatOutageFacts], tz: zoneinfo.ZoneInfo, now: datetime) -> list[dict[str, Any]]:
    """The week's background jobs late or failing (heartbeats), oldest first."""
    return [{**_outage(o, tz, now), "cause": o.cause_label} for o in outages]


def _outage(
    o: monitoring.JourneyOutageFacts | monitoring.HeartbeatOutageFacts, tz: zoneinfo.ZoneInfo, now: datetime
) -> dict[str, Any]:
    """What the report says of any outage of the week: what, since when, for how long (so far), and why."""
    return {
        "name": o.name,
        "started": moment(o.started_at, tz),
        "ongoing": o.ended_at is None,
        "duration": duration(((o.ended_at or now) - o.started_at).total_seconds()),
        "detail": o.detail,
    }


def _certificates(certs: list[tuple[str, str]], now: datetime) -> list[dict[str, Any]]:
    rows = []
    for host, not_after in sorted(set(certs)):
        try:
            expires = datetime.fromisoformat(not_after)
        except ValueError:
            continue
        days = int((expires - now).total_seconds() // 86400)
        level = "stop" if days < CERT_STOP_DAYS else "warn" if days < CERT_WARN_DAYS else "ok"
        rows.append({"host": host, "expires": long_date(expires), "days": days, "level": level})
    return sorted(rows, key=lambda r: r["days"])


def _changes(rows: list[audits.FindingChange]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Each finding's last change of the week: fixed, or new (regressed counts as new: it came back)."""
    last: dict[tuple[str, str], audits.FindingChange] = {}
    for change in rows:
        last[(change.check_id, change.subject)] = change
    fixed: list[dict[str, str]] = []
    new: list[dict[str, str]] = []
    for change in last.values():
        severity = change.severity
        row = {"title": change.title, "severity": severity, "severity_label": SEVERITY_LABEL.get(severity, severity)}
        (fixed if change.fixed else new).append(row)
    order = list(SEVERITY_LABEL)
    fixed.sort(key=lambda r: order.index(r["severity"]) if r["severity"] in order else 9)
    new.sort(key=lambda r: order.index(r["severity"]) if r["severity"] in order else 9)
    return fixed, new


def _deploy(deploy: monitoring.DeployFacts, tz: zoneinfo.ZoneInfo) -> dict[str, Any]:
    failing = [f"{r.get('url', '')}: {r.get('problem', '')}" for r in deploy.smoke_results if not r.get("ok")]
    return {
        "version": deploy.version or deploy.commit[:8] or "unnamed",
        "environment": deploy.environment,
        "when": moment(deploy.created, tz),
        "smoke": deploy.smoke,
        "smoke_label": deploy.smoke_label,
        "checked": len(deploy.smoke_results),
        "failing": failing,
        "jobs_missed": [str(c.get("name", "")) for c in deploy.job_checks if c.get("state") == "missed"],
    }


def _deploy_regressions(deploys: list[monitoring.DeployFacts], tz: zoneinfo.ZoneInfo) -> list[str]:
    """A sentence per deploy of the week that made a core route slower (monitoring/deploy_latency.py): the p95
    of the hour after at least TREND_RATIO times the day before's, each on enough probes to tell."""
    lines = []
    for deploy in deploys:
        slower = [r for r in deploy.latency if r.regressed]
        if not slower:
            continue
        local = deploy.created.astimezone(tz)
        version = deploy.version or deploy.commit[:8] or "unnamed"
        routes = "; and ".join(
            f"{r.label} ({r.url}) slower: p95 {latency(r.before_p95)} before, {latency(r.after_p95)} after"
            for r in slower
        )
        lines.append(f"The deploy of {version} on {local:%A} {local.day} {local:%B} made {routes}.")
    return lines


def headline(data: dict[str, Any]) -> str:
    """One sentence a founder reads first."""
    summary = data["summary"]
    down = summary.get("down_now", 0)
    if not summary["probes"]:
        if down:
            are = "routes are" if down != 1 else "route is"
            return f"Monitoring had no results for this week yet, and {down} {are} down now."
        return "Monitoring had no results for this week yet."
    if summary["uptime_over"]:
        parts = [f"Your routes were up {summary['uptime']} {summary['uptime_over']} of monitoring"]
    else:
        parts = [f"Your routes were up {summary['uptime']} of the week"]
    if summary["incidents"]:
        n = summary["incidents"]
        parts.append(f"{plural(n, 'outage')} ({summary['downtime']} in total)")
    elif not down:
        parts.append("no outage")
    if down:
        parts.append(f"{plural(down, 'route')} down right now")
    slower = [r for r in data["routes"] if r["trend"] == "slower"]
    if slower:
        parts.append(f"{plural(len(slower), 'route')} slower than last week")
    return ", ".join(parts) + "."
