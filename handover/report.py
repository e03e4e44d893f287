"""The weekly status report's facts: for a client and a week, uptime and p95 per route with the trend against
the week before, incidents, alerts sent, certificate expiry, drift, findings fixed and new, deploys and the
next steps. Built for any number of clients in a fixed number of queries per time zone, whatever the history.

The facts come out as plain JSON (numbers and the words to show them), so that what was sent can be kept as
a snapshot and rendered again exactly."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from audits.findings import LaunchVerdict, Severity
from audits.models import AuditFinding, AuditRun, RepoFinding
from audits.risk import latest_run_ids, latest_scans
from launchready import formatting
from launchready.models import Client, Domain, Route
from monitoring.models import Alert, Deploy, Incident, Monitor, WatchEvent
from monitoring.rollup import observed, windows

WEEK = timedelta(days=7)
NEXT_STEPS = 3
TREND_RATIO = 1.2  # a p95 a fifth slower (or faster) than last week is a trend; less is noise
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
ALERT_LABEL = dict(Alert.Kind.choices)
DRIFT_KINDS = (WatchEvent.Kind.DNS_DRIFT, WatchEvent.Kind.EMAIL_DRIFT, WatchEvent.Kind.P95_REGRESSION)


# --- weeks in the client's time zone -----------------------------------------------------------------


def client_zone(client: Client) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(client.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def week_of(at: datetime, tz: zoneinfo.ZoneInfo) -> date:
    """The Monday of the week `at` falls in, in the given time zone."""
    day = at.astimezone(tz).date()
    return day - timedelta(days=day.weekday())


def local_midnight(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(zoneinfo.ZoneInfo("UTC"))


@dataclass(frozen=True)
class Period:
    """The week a report covers: the whole week (Monday to Sunday, the client's time) before `sent_week`."""

    sent_week: date
    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        return self.sent_week - WEEK

    @property
    def last_day(self) -> date:
        return self.sent_week - timedelta(days=1)

    @property
    def label(self) -> str:
        return _label(self.first_day, self.last_day)


def period_for(client: Client, sent_week: date) -> Period:
    tz = client_zone(client)
    return Period(sent_week, local_midnight(sent_week - WEEK, tz), local_midnight(sent_week, tz))


def first_week(client: Client, week: date) -> date:
    """`week`, or the first week after it whose report covers a day the client existed: no report, preview,
    digest or history offers a week that ended before the client was added."""
    while period_for(client, week).end <= client.created:
        week += WEEK
    return week


# --- words for numbers -------------------------------------------------------------------------------


WHOLE_WEEK = "the whole week"


def percent(value: float | None) -> str:
    return formatting.percent(value, none="no data")


def uptime_words(seen: formatting.Observed, full_week: bool = True) -> dict[str, Any]:
    """The uptime figure and the time it covers, as every surface of the report prints them: "the whole week"
    only when the monitors watched all of a full week, else how long they watched."""
    whole = WHOLE_WEEK if full_week else f"over {formatting.span(seen.window_seconds)}"
    if not full_week and seen.window_seconds < formatting.MINUTE:
        whole = "in under a minute"
    over = "" if not seen.probes or (seen.whole_window and full_week) else formatting.uptime_span(seen, whole)
    return {
        "uptime": percent(seen.uptime),
        "uptime_value": seen.uptime,
        "uptime_text": f"{percent(seen.uptime)} {over}" if over else formatting.uptime_text(seen, WHOLE_WEEK),
        "uptime_over": over,
    }


def millis(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def when(at: datetime, tz: zoneinfo.ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _clock(at: datetime, tz: zoneinfo.ZoneInfo) -> str:
    return f"{at.astimezone(tz):%H:%M}"


def _same_day(a: datetime, b: datetime, tz: zoneinfo.ZoneInfo) -> bool:
    return a.astimezone(tz).date() == b.astimezone(tz).date()


def trend(now: float | None, before: float | None) -> tuple[str, str]:
    """A p95 against last week's: (slower | faster | steady | new, the words for it)."""
    if now is None:
        return "none", "no traffic measured"
    if before is None:
        return "new", "no figure for last week"
    change = (now - before) / before * 100 if before else 0.0
    if now >= before * TREND_RATIO:
        return "slower", f"slower: {millis(before)} last week (+{change:.0f}%)"
    if now * TREND_RATIO <= before:
        return "faster", f"faster: {millis(before)} last week ({change:.0f}%)"
    return "steady", f"steady: {millis(before)} last week"


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
        self.monitors: dict[int, list[Monitor]] = defaultdict(list)
        for monitor in Monitor.objects.filter(client_id__in=ids).select_related("route__domain"):
            self.monitors[monitor.client_id].append(monitor)
        monitor_ids = [m.id for ms in self.monitors.values() for m in ms]
        self.this_week = windows(monitor_ids, start, end, now)
        self.last_week = windows(monitor_ids, start - WEEK, start, now)
        self.incidents: dict[int, list[Incident]] = defaultdict(list)
        # Routes down now (open incidents, whatever the week) come with the week's: a report never calls a
        # week calm while a route is down.
        down: dict[int, set[int]] = defaultdict(set)
        for incident in (
            Incident.objects.filter(monitor__client_id__in=ids)
            .filter(Q(ended_at__isnull=True) | Q(started_at__lt=end, ended_at__gte=start))
            .select_related("monitor__route__domain")
            .order_by("started_at")
        ):
            if incident.ended_at is None:
                down[incident.monitor.client_id].add(incident.monitor_id)
            if incident.started_at < end:
                self.incidents[incident.monitor.client_id].append(incident)
        self.down_now = {client_id: len(monitors) for client_id, monitors in down.items()}
        self.alerts: dict[int, dict[str, int]] = defaultdict(dict)
        for row in (
            Alert.objects.annotate(about=Coalesce("client_id", "channel__client_id"))  # a default channel's too
            .filter(about__in=ids, state=Alert.State.SENT)
            .filter(sent_at__gte=start, sent_at__lt=end)
            .exclude(kind=Alert.Kind.TEST)
            .values("about", "kind")
            .annotate(n=Count("id"))
        ):
            self.alerts[row["about"]][row["kind"]] = row["n"]
        domains = dict(Domain.objects.filter(client_id__in=ids).values_list("id", "client_id"))
        runs = latest_run_ids(list(domains))
        ranked: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        for client_id, rank, title, severity, explanation, fix in (
            AuditFinding.objects.filter(run_id__in=runs)
            .exclude(change=AuditFinding.Change.FIXED)
            .exclude(severity=Severity.INFO)
            .values_list("run__domain__client_id", "rank", "title", "severity", "explanation", "fix")
        ):
            ranked[client_id].append((rank, {"title": title, "severity": severity, "why": explanation, "fix": fix}))
        # The latest repository scan's findings are on the risk list: a committed key is a blocker here too.
        scans = latest_scans(ids)
        for client_id, rank, title, severity, explanation, fix in (
            RepoFinding.objects.filter(scan__in=list(scans.values()))
            .exclude(change=RepoFinding.Change.FIXED)
            .exclude(severity=Severity.INFO)
            .values_list("scan__client_id", "rank", "title", "severity", "explanation", "fix")
        ):
            ranked[client_id].append((rank, {"title": title, "severity": severity, "why": explanation, "fix": fix}))
        self.open: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for client_id, rows in ranked.items():
            self.open[client_id] = [row for _, row in sorted(rows, key=lambda r: r[0])]
        self.audited: set[int] = set()
        self.unfinished: set[int] = set()  # clients whose latest audit of some domain did not finish every check
        for client_id, state, verdict in AuditRun.objects.filter(id__in=runs).values_list(
            "domain__client_id", "state", "verdict"
        ):
            self.audited.add(client_id)
            if state != AuditRun.State.DONE or verdict == LaunchVerdict.UNCHECKED:
                self.unfinished.add(client_id)
        self.certificates: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for client_id, host, evidence in AuditFinding.objects.filter(
            run_id__in=runs, check_id="tls.certificate"
        ).values_list("run__domain__client_id", "subject", "evidence"):
            if isinstance(evidence, dict) and evidence.get("not_after"):
                self.certificates[client_id].append((host, str(evidence["not_after"])))
        self.changes: dict[int, list[tuple[str, str, str, str, str]]] = defaultdict(list)
        for client_id, check_id, subject, title, severity, change in (
            AuditFinding.objects.filter(
                run__domain__client_id__in=ids,
                run__finished_at__gte=start,
                run__finished_at__lt=end,
                change__in=[AuditFinding.Change.NEW, AuditFinding.Change.REGRESSED, AuditFinding.Change.FIXED],
            )
            .exclude(severity=Severity.INFO)
            .order_by("run__finished_at", "rank")
            .values_list("run__domain__client_id", "check_id", "subject", "title", "severity", "change")
        ):
            self.changes[client_id].append((check_id, subject, title, severity, change))
        self.events: dict[int, list[WatchEvent]] = defaultdict(list)
        for event in WatchEvent.objects.filter(client_id__in=ids, created__gte=start, created__lt=end).order_by(
            "created"
        ):
            self.events[event.client_id].append(event)
        self.deploys: dict[int, list[Deploy]] = defaultdict(list)
        for deploy in Deploy.objects.filter(client_id__in=ids, created__gte=start, created__lt=end).order_by("created"):
            self.deploys[deploy.client_id].append(deploy)


def _route_key(monitor: Monitor) -> tuple[int, str]:
    kind = monitor.route.kind
    return (ROUTE_ORDER.index(Route.Kind(kind)) if kind in Route.Kind.values else len(ROUTE_ORDER), monitor.url)


def covered(client: Client, period: Period, now: datetime) -> tuple[datetime, datetime]:
    """The part of the week the report can speak for: from the client's creation (its first report covers
    only the days since) to the week's end, or to now while the week is still going."""
    begin = max(period.start, client.created)
    return begin, max(min(period.end, now), begin)


def week_label(client: Client, period: Period) -> str:
    """The week's dates, starting on the day the client was added when that falls inside it."""
    first = client.created.astimezone(client_zone(client)).date()
    if first <= period.first_day or first > period.last_day:
        return period.label
    return _label(first, period.last_day)


def _label(first: date, last: date) -> str:
    if first == last:
        return f"{last.day} {last:%B %Y}"
    if first.month == last.month:
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"


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
    seen = observed(((w.probes, w.failures, interval) for w, interval in weeks), length)
    down_now = facts.down_now.get(client.id, 0)
    downtime = sum(i["seconds_in_week"] for i in incidents)
    alerts = facts.alerts.get(client.id, {})
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
            "alerts": sum(alerts.values()),
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
        "alerts": [{"label": ALERT_LABEL.get(k, k), "count": n} for k, n in sorted(alerts.items())],
        "certificates": _certificates(facts.certificates.get(client.id, []), now),
        "drift": [
            {"kind": event.get_kind_display(), "title": event.title, "when": when(event.created, tz)}
            for event in facts.events.get(client.id, [])
            if event.kind in DRIFT_KINDS
        ],
        "fixed": fixed,
        "new": new,
        "deploys": [_deploy(d, tz) for d in facts.deploys.get(client.id, [])],
        "next_steps": [
            {**f, "severity_label": SEVERITY_LABEL.get(f["severity"], f["severity"])} for f in open_risks[:NEXT_STEPS]
        ],
    }
    data["summary"]["headline"] = headline(data)
    return data


def _routes(monitors: list[Monitor], facts: _Facts, length: timedelta, full_week: bool) -> list[dict[str, Any]]:
    rows = []
    for monitor in sorted(monitors, key=_route_key):
        this, last = facts.this_week[monitor.id], facts.last_week[monitor.id]
        p95, p95_before = this.percentile(0.95), last.percentile(0.95)
        direction, words = trend(p95, p95_before)
        rows.append(
            {
                "url": monitor.route.display_url,
                "kind": monitor.route.get_kind_display(),
                **uptime_words(observed([(this.probes, this.failures, monitor.interval)], length), full_week),
                "probes": this.probes,
                "failures": this.failures,
                "unknown": duration(this.unknown_seconds) if this.unknown_seconds else "",
                "p95": millis(p95),
                "p95_value": p95,
                "p95_last_week": millis(p95_before),
                "p95_last_week_value": p95_before,
                "trend": direction,
                "trend_text": words,
                "paused": monitor.paused,
            }
        )
    return rows


def _incidents(incidents: list[Incident], period: Period, tz: zoneinfo.ZoneInfo, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for incident in incidents:
        ended = incident.ended_at
        until = min(ended or now, period.end)
        rows.append(
            {
                "url": incident.monitor.route.display_url,
                "kind": incident.monitor.route.get_kind_display(),
                "started": when(incident.started_at, tz),
                "ended": (_clock(ended, tz) if _same_day(ended, incident.started_at, tz) else when(ended, tz))
                if ended
                else "",
                "ongoing": ended is None,
                "duration": duration(((ended or now) - incident.started_at).total_seconds()),
                "seconds_in_week": max((until - max(incident.started_at, period.start)).total_seconds(), 0),
                "cause": incident.get_cause_display() if incident.cause else "Unknown",
            }
        )
    return rows


def _certificates(certs: list[tuple[str, str]], now: datetime) -> list[dict[str, Any]]:
    rows = []
    for host, not_after in sorted(set(certs)):
        try:
            expires = datetime.fromisoformat(not_after)
        except ValueError:
            continue
        days = int((expires - now).total_seconds() // 86400)
        level = "stop" if days < CERT_STOP_DAYS else "warn" if days < CERT_WARN_DAYS else "ok"
        rows.append({"host": host, "expires": f"{expires.day} {expires:%B %Y}", "days": days, "level": level})
    return sorted(rows, key=lambda r: r["days"])


def _changes(rows: list[tuple[str, str, str, str, str]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Each finding's last change of the week: fixed, or new (regressed counts as new: it came back)."""
    last: dict[tuple[str, str], tuple[str, str, str]] = {}
    for check_id, subject, title, severity, change in rows:
        last[(check_id, subject)] = (title, severity, change)
    fixed: list[dict[str, str]] = []
    new: list[dict[str, str]] = []
    for title, severity, change in last.values():
        row = {"title": title, "severity": severity, "severity_label": SEVERITY_LABEL.get(severity, severity)}
        (fixed if change == AuditFinding.Change.FIXED else new).append(row)
    order = list(SEVERITY_LABEL)
    fixed.sort(key=lambda r: order.index(r["severity"]) if r["severity"] in order else 9)
    new.sort(key=lambda r: order.index(r["severity"]) if r["severity"] in order else 9)
    return fixed, new


def _deploy(deploy: Deploy, tz: zoneinfo.ZoneInfo) -> dict[str, Any]:
    failing = [f"{r.get('url', '')}: {r.get('problem', '')}" for r in deploy.smoke_results or [] if not r.get("ok")]
    return {
        "version": deploy.version or deploy.commit[:8] or "unnamed",
        "environment": deploy.environment,
        "when": when(deploy.created, tz),
        "smoke": deploy.smoke,
        "smoke_label": deploy.get_smoke_display(),
        "checked": len(deploy.smoke_results or []),
        "failing": failing,
    }


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
        parts.append(f"{n} outage{'s' if n != 1 else ''} ({summary['downtime']} in total)")
    elif not down:
        parts.append("no outage")
    if down:
        parts.append(f"{down} route{'s' if down != 1 else ''} down right now")
    slower = [r for r in data["routes"] if r["trend"] == "slower"]
    if slower:
        parts.append(f"{len(slower)} route{'s' if len(slower) != 1 else ''} slower than last week")
    return ", ".join(parts) + "."
