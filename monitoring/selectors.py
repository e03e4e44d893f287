"""What other apps read of the monitoring: the monitors, uptime and latency over any window, incidents,
alerts sent, deploys, watch events, heartbeats and their outages, journeys with their timings and outages, and
where alerts go. Plain data out; the tables stay here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import Coalesce

from launchready.formatting import Observed
from launchready.models import Route
from monitoring import deploy_latency, histogram, journey_rollup, rollup
from monitoring.alerts import routed_channels
from monitoring.deploy_latency import REGRESSION_RATIO as REGRESSION_RATIO  # the weekly report's trend ratio
from monitoring.deploy_latency import RouteLatency
from monitoring.heartbeat_facts import HeartbeatFacts, facts
from monitoring.journey_incidents import step_words
from monitoring.journey_rollup import JourneyWindow
from monitoring.journey_steps import posts_password
from monitoring.models import (
    Alert,
    Deploy,
    Heartbeat,
    HeartbeatOutage,
    Incident,
    Journey,
    JourneyIncident,
    JourneyRun,
    JourneyStep,
    Monitor,
    WatchEvent,
)
from monitoring.rollup import Window
from monitoring.snippets import PLACEHOLDER, cron_line

DRIFT_KINDS = (WatchEvent.Kind.DNS_DRIFT, WatchEvent.Kind.EMAIL_DRIFT, WatchEvent.Kind.P95_REGRESSION)


# --- monitors, uptime and latency ----------------------------------------------------------------------


@dataclass(frozen=True)
class MonitorFacts:
    id: int
    client_id: int
    url: str
    route: Route  # with its domain
    interval: int
    state_label: str
    paused: bool
    latency_budget_ms: int


def monitors(client_ids: list[int]) -> list[MonitorFacts]:
    """The monitors of these clients, by URL."""
    return [
        MonitorFacts(
            m.id, m.client_id, m.url, m.route, m.interval, m.get_state_display(), m.paused, m.latency_budget_ms
        )
        for m in Monitor.objects.filter(client_id__in=client_ids).select_related("route__domain").order_by("url")
    ]


def windows(monitor_ids: list[int], start: datetime, end: datetime, now: datetime | None = None) -> dict[int, Window]:
    """Probes, failures, time unknown and the latency histogram of each monitor over [start, end)."""
    return rollup.windows(monitor_ids, start, end, now)


def observed(counts: Iterable[tuple[int, int, int]], length: timedelta) -> Observed:
    """Uptime over the time actually watched, from each monitor's (probes, failures, interval) in a window."""
    return rollup.observed(counts, length)


def merged_percentile(windows: Iterable[Window], fraction: float) -> float | None:
    """A percentile of the latency of several monitors' windows together (their histograms merged)."""
    return histogram.percentile(histogram.merge(w.histogram for w in windows), fraction)


@dataclass(frozen=True)
class MonitorCounts:
    watched: int  # monitors not paused
    down: int
    unknown: int  # not checked yet


def monitor_counts(client_id: int) -> MonitorCounts:
    """How many of the client's active monitors there are, and how many are down or not checked yet (one query)."""
    states = dict(
        Monitor.objects.filter(client_id=client_id, paused=False)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("state", "n")
    )
    return MonitorCounts(sum(states.values()), states.get(Monitor.State.DOWN, 0), states.get(Monitor.State.UNKNOWN, 0))


def routed_channel_names(client_id: int) -> list[str]:
    """The names of the channels the client's alerts go to (its own, or its workspace's defaults)."""
    return [c.name for c in routed_channels(client_id)]


# --- incidents, alerts, deploys and watch events --------------------------------------------------------


@dataclass(frozen=True)
class IncidentFacts:
    client_id: int
    monitor_id: int
    route: Route  # with its domain
    started_at: datetime
    ended_at: datetime | None
    cause_label: str  # empty when no cause was recorded


def incidents(client_ids: list[int], start: datetime, end: datetime) -> list[IncidentFacts]:
    """The outages of these clients' monitors that overlap [start, end), and every one still open whenever it
    began, oldest first."""
    return [
        IncidentFacts(
            i.monitor.client_id,
            i.monitor_id,
            i.monitor.route,
            i.started_at,
            i.ended_at,
            i.get_cause_display() if i.cause else "",
        )
        for i in Incident.objects.filter(monitor__client_id__in=client_ids)
        .filter(Q(ended_at__isnull=True) | Q(started_at__lt=end, ended_at__gte=start))
        .select_related("monitor__route__domain")
        .order_by("started_at")
    ]


def recent_incident_count(client_id: int, since: datetime) -> int:
    return Incident.objects.filter(monitor__client_id=client_id, started_at__gte=since).count()


def sent_alerts(client_ids: list[int], start: datetime, end: datetime) -> dict[int, list[tuple[str, int]]]:
    """Each client's alerts sent in [start, end), test messages left out, as (kind in words, how many) by kind;
    an alert a workspace default channel sent for the client counts as the client's."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        Alert.objects.annotate(about=Coalesce("client_id", "channel__client_id"))
        .filter(about__in=client_ids, state=Alert.State.SENT)
        .filter(sent_at__gte=start, sent_at__lt=end)
        .exclude(kind=Alert.Kind.TEST)
        .values("about", "kind")
        .annotate(n=Count("id"))
    ):
        counts[row["about"]][row["kind"]] = row["n"]
    labels = dict(Alert.Kind.choices)
    return {
        client_id: [(labels.get(kind, kind), n) for kind, n in sorted(kinds.items())]
        for client_id, kinds in counts.items()
    }


@dataclass(frozen=True)
class DeployFacts:
    client_id: int
    version: str
    commit: str
    environment: str
    created: datetime
    smoke: str
    smoke_label: str
    smoke_results: list[dict[str, Any]]
    # "Every job pinged since the deploy": name, state (waiting, pinged, missed, gone), expected_by, pinged_at.
    job_checks: list[dict[str, Any]] = field(default_factory=list)
    # The p95 of each core route the 24 hours before and the hour after (monitoring/deploy_latency.py).
    latency: list[RouteLatency] = field(default_factory=list)


def deploys(client_ids: list[int], start: datetime, end: datetime, now: datetime | None = None) -> list[DeployFacts]:
    """The deploys these clients reported in [start, end), oldest first, with their smoke tests' results and
    their core routes' p95 before and after (no more query when those are stored, two when some are not)."""
    rows = list(
        Deploy.objects.filter(client_id__in=client_ids, created__gte=start, created__lt=end).order_by("created")
    )
    latency = deploy_latency.measure(rows, now)
    return [
        DeployFacts(
            d.client_id,
            d.version,
            d.commit,
            d.environment,
            d.created,
            d.smoke,
            d.get_smoke_display(),
            list(d.smoke_results or []),
            list(d.job_checks or []),
            latency.get(d.id, []),
        )
        for d in rows
    ]


@dataclass(frozen=True)
class WatchEventFacts:
    client_id: int
    kind_label: str
    title: str
    created: datetime


def _event(event: WatchEvent) -> WatchEventFacts:
    return WatchEventFacts(event.client_id, event.get_kind_display(), event.title, event.created)


def drift_events(client_ids: list[int], start: datetime, end: datetime) -> list[WatchEventFacts]:
    """What drifted for these clients in [start, end), oldest first: DNS or email authentication changed, or a
    deploy made a route slower."""
    rows = WatchEvent.objects.filter(client_id__in=client_ids, created__gte=start, created__lt=end)
    return [_event(e) for e in rows.filter(kind__in=DRIFT_KINDS).order_by("created")]


def recent_watch_events(client_id: int, since: datetime, limit: int) -> list[WatchEventFacts]:
    """The client's latest watch events since `since`, newest first."""
    return [_event(e) for e in WatchEvent.objects.filter(client_id=client_id, created__gte=since)[:limit]]


# --- heartbeats ------------------------------------------------------------------------------------------


def heartbeats(client_ids: list[int], now: datetime) -> list[HeartbeatFacts]:
    """The heartbeats of these clients at `now`, in words, by name (no ping URL: it is a secret of the page)."""
    rows = Heartbeat.objects.filter(client_id__in=client_ids).select_related("client").order_by("name", "id")
    return [facts(h, now) for h in rows]


@dataclass(frozen=True)
class HeartbeatOutageFacts:
    client_id: int
    name: str
    cause_label: str
    started_at: datetime
    ended_at: datetime | None
    detail: str


def heartbeat_outages(client_ids: list[int], start: datetime, end: datetime) -> list[HeartbeatOutageFacts]:
    """The times these clients' heartbeats were late or failing that overlap [start, end), and every one still
    going whenever it began, oldest first."""
    return [
        HeartbeatOutageFacts(
            o.heartbeat.client_id, o.heartbeat.name, o.get_cause_display(), o.started_at, o.ended_at, o.detail
        )
        for o in HeartbeatOutage.objects.filter(heartbeat__client_id__in=client_ids)
        .filter(Q(ended_at__isnull=True) | Q(started_at__lt=end, ended_at__gte=start))
        .select_related("heartbeat")
        .order_by("started_at")
    ]


def ping_example() -> str:
    """A crontab line that reports its runs, with a placeholder where the job's own ping URL goes."""
    return cron_line(PLACEHOLDER, "0 3 * * *")


# --- customer paths --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInFacts:
    """The latest run of the client's sign-in journeys (journeys that post the test account's password)."""

    journeys: int  # enabled sign-in journeys
    journey: str = ""  # the journey of the latest run; empty when none has run
    ran_at: datetime | None = None
    ok: bool = False
    failing_step: str = ""  # the name of the step that failed
    summary: str = ""  # the run's verdict in plain English


def _signs_in(step: JourneyStep) -> bool:
    return posts_password(step.method, step.form, step.json_body)


def sign_in_facts(client_id: int) -> SignInFacts:
    """Whether the client has a sign-in journey, and how its latest run went (three queries)."""
    journeys = Journey.objects.filter(client_id=client_id, enabled=True).prefetch_related("steps")
    sign_ins = {j.id: j.name for j in journeys if any(_signs_in(s) for s in j.steps.all())}
    run = JourneyRun.objects.filter(journey_id__in=list(sign_ins)).order_by("-started_at", "-id").first()
    if run is None:
        return SignInFacts(len(sign_ins))
    steps = run.steps or []
    failing = run.failing_step
    step = str(steps[failing].get("name", "")) if failing is not None and failing < len(steps) else ""
    return SignInFacts(len(sign_ins), sign_ins[run.journey_id], run.started_at, run.ok, step, run.summary)


# --- journeys as monitors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class JourneyFacts:
    id: int
    client_id: int
    name: str
    enabled: bool
    steps: list[str]  # the steps' names, in order


def journeys(client_ids: list[int]) -> list[JourneyFacts]:
    """The journeys of these clients, by name, with their steps' names (two queries)."""
    return [
        JourneyFacts(j.id, j.client_id, j.name, j.enabled, [s.name for s in j.steps.all()])
        for j in Journey.objects.filter(client_id__in=client_ids).prefetch_related("steps").order_by("name", "id")
    ]


def journey_windows(journey_ids: list[int], start: datetime, end: datetime) -> dict[int, JourneyWindow]:
    """Scheduled runs, failures and the timing histograms of each journey and its steps over [start, end)."""
    return journey_rollup.windows(journey_ids, start, end)


@dataclass(frozen=True)
class JourneyOutageFacts:
    client_id: int
    name: str
    step: str  # "step 2, “Open the dashboard”"
    started_at: datetime
    ended_at: datetime | None
    detail: str


def journey_outages(journey_ids: list[int], start: datetime, end: datetime) -> list[JourneyOutageFacts]:
    """The outages of these journeys that overlap [start, end), and every one still open whenever it began,
    oldest first (no query for no journey)."""
    if not journey_ids:
        return []
    return [
        JourneyOutageFacts(
            i.journey.client_id,
            i.journey.name,
            step_words(i.failing_step, i.step_name),
            i.started_at,
            i.ended_at,
            i.detail,
        )
        for i in JourneyIncident.objects.filter(journey_id__in=journey_ids)
        .filter(Q(ended_at__isnull=True) | Q(started_at__lt=end, ended_at__gte=start))
        .select_related("journey")
        .order_by("started_at")
    ]
