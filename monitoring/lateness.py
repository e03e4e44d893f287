"""The heartbeats' sweep: a heartbeat late or failing is alerted once, and its return once, safely across
workers and retries. Each change of what the alerts say is claimed with a conditional update of the heartbeat
(on what was read: whether it was alerted, its failures and its latest ping), so two sweeps never both act on
it and a ping landing in between makes the claim miss, to be looked at again on the next sweep.

A failure is counted by the ping itself (`failures`), and `failures_seen` says how many the sweep has accounted
for: a failure followed by a success before the sweep came by is still told (failed, then running again).
While a maintenance window of the whole client is open, nothing is claimed: what is still true when it closes
is alerted then."""

from __future__ import annotations

import zoneinfo
from collections import Counter
from datetime import datetime

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from launchready.formatting import duration, moment
from monitoring import client_status
from monitoring import heartbeat_schedule as schedule
from monitoring.alerts import alerts_for, routed_channels
from monitoring.holds import client_held_by
from monitoring.models import Alert, AlertChannel, Deploy, Heartbeat, HeartbeatOutage

SWEEP_LIMIT = 500  # heartbeats looked at per sweep and per kind; the rest come on the next one
UNCHANGED = frozenset({"", "fine", "held", "raced"})  # outcomes that change nothing the status rows count
BODY_IN_ALERT = 200  # characters of a failure's body quoted in its alert


def when(at: datetime, tz: zoneinfo.ZoneInfo) -> str:
    """'Mon 3 Mar 14:05 CET': a moment in the client's time zone, named."""
    return f"{moment(at, tz)} {at.astimezone(tz).tzname() or ''}".rstrip()


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Look at every heartbeat due a look (late by its clock, or with a failure not seen yet) and at every one
    the alerts said was late or failing; returns what was done, by outcome."""
    now = now or timezone.now()
    done: Counter[str] = Counter()
    changed: set[int] = set()  # clients whose status rows say otherwise now
    due = Heartbeat.objects.filter(paused=False, alerted=Heartbeat.Alerted.UP, due_at__lte=now)
    seen = []
    for heartbeat in due.select_related("client").order_by("due_at")[:SWEEP_LIMIT]:
        outcome = _look_at(heartbeat, now)
        done[outcome] += 1
        seen.append(heartbeat.pk)
        if outcome not in UNCHANGED:
            changed.add(heartbeat.client_id)
    down = Heartbeat.objects.filter(paused=False, alerted=Heartbeat.Alerted.DOWN).exclude(pk__in=seen)
    for heartbeat in down.select_related("client").order_by("id")[:SWEEP_LIMIT]:
        outcome = _look_again(heartbeat, now)
        done[outcome] += 1
        if outcome not in UNCHANGED:
            changed.add(heartbeat.client_id)
    client_status.refresh_jobs(changed)  # one refresh for all of them, after the claims are committed
    done.pop("", None)  # still down: nothing done
    return dict(done)


def _claim(heartbeat: Heartbeat) -> QuerySet[Heartbeat]:
    """The heartbeat's row only if nothing changed it since it was read."""
    return Heartbeat.objects.filter(
        pk=heartbeat.pk,
        paused=False,
        alerted=heartbeat.alerted,
        failures=heartbeat.failures,
        last_ping_at=heartbeat.last_ping_at,
    )


def _look_at(heartbeat: Heartbeat, now: datetime) -> str:
    """A heartbeat the alerts call fine: alert it when a failure came or it is late, else note when to look next."""
    tz = schedule.zone(heartbeat.client.timezone)
    status = schedule.status(heartbeat, now, tz)
    if heartbeat.failures > heartbeat.failures_seen:
        cause = HeartbeatOutage.Cause.FAILED
    elif status.late_after is not None and now >= status.late_after:
        cause = HeartbeatOutage.Cause.STUCK if schedule.stuck(heartbeat, now) else HeartbeatOutage.Cause.LATE
    else:  # nothing to tell (the schedule changed, or it was resumed): look again when it would be late
        _claim(heartbeat).update(due_at=status.late_after)
        return "fine"
    if client_held_by(heartbeat.client, now):
        return "held"
    back = status.state == schedule.State.UP  # it failed, and succeeded before this sweep came by
    with transaction.atomic():
        claimed = _claim(heartbeat).update(
            alerted=Heartbeat.Alerted.UP if back else Heartbeat.Alerted.DOWN,
            failures_seen=heartbeat.failures,
            due_at=status.late_after if back else None,
        )
        if not claimed:
            return "raced"
        outage = _open(heartbeat, cause, now, tz)
        if back:
            _close(heartbeat, outage, now, tz)
    return str(cause)


def _look_again(heartbeat: Heartbeat, now: datetime) -> str:
    """A heartbeat the alerts called late or failing: tell its return once a success has come."""
    tz = schedule.zone(heartbeat.client.timezone)
    status = schedule.status(heartbeat, now, tz)
    if status.state != schedule.State.UP:
        return ""
    if client_held_by(heartbeat.client, now):
        return "held"
    with transaction.atomic():
        claimed = _claim(heartbeat).update(
            alerted=Heartbeat.Alerted.UP, failures_seen=heartbeat.failures, due_at=status.late_after
        )
        if not claimed:
            return "raced"
        for outage in HeartbeatOutage.objects.filter(heartbeat=heartbeat, ended_at__isnull=True):
            _close(heartbeat, outage, now, tz)
    return "back"


def _one_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _open(heartbeat: Heartbeat, cause: str, now: datetime, tz: zoneinfo.ZoneInfo) -> HeartbeatOutage:
    name, wait = heartbeat.name, schedule.describe_minutes(heartbeat.grace_minutes)
    if cause == HeartbeatOutage.Cause.FAILED:
        started = heartbeat.last_failure_at or now
        detail = f"{name} reported a failure at {when(started, tz)}"
        if heartbeat.last_ping_kind == Heartbeat.Ping.FAIL and heartbeat.last_body:
            detail += f": {_one_line(heartbeat.last_body, BODY_IN_ALERT)}"
        else:
            detail += "."
        kind = Alert.Kind.JOB_FAILED
    elif cause == HeartbeatOutage.Cause.STUCK:
        started = schedule.late_after(heartbeat, tz) or now
        began = heartbeat.started_at or now
        detail = f"{name} started at {when(began, tz)} and has not said it finished within its {wait} grace."
        kind = Alert.Kind.LATE
    else:
        started = schedule.late_after(heartbeat, tz) or now
        last = schedule.last_run(heartbeat) or heartbeat.last_ping_at or now
        expected = schedule.expected_at(heartbeat, tz) or started
        detail = (
            f"No ping from {name} since {when(last, tz)}: one was expected by {when(expected, tz)}, "
            f"and {wait} of grace have passed."
        )
        deploy = Deploy.objects.filter(client_id=heartbeat.client_id, created__gt=last).order_by("-created").first()
        if deploy is not None:
            detail += (
                f" The {deploy.environment} deploy {deploy.version or deploy.commit[:8]} came since its last ping."
            )
        kind = Alert.Kind.LATE
    outage = HeartbeatOutage.objects.create(
        heartbeat=heartbeat, cause=cause, started_at=started, alerted_at=now, detail=_one_line(detail, 300)
    )
    payload = {
        "heartbeat": name,
        "cause": outage.get_cause_display(),
        "since": started.isoformat(),
        "detail": outage.detail,
    }
    told = alerts_for(heartbeat.client_id, kind, f"heartbeat:{outage.id}:down", payload=payload)
    HeartbeatOutage.objects.filter(pk=outage.pk).update(told=len(told))
    outage.told = len(told)
    return outage


def _close(heartbeat: Heartbeat, outage: HeartbeatOutage, now: datetime, tz: zoneinfo.ZoneInfo) -> None:
    ended = heartbeat.last_success_at or now
    state = "failing" if outage.cause == HeartbeatOutage.Cause.FAILED else "late"
    lasted = duration(max((ended - outage.started_at).total_seconds(), 0))
    detail = f"{heartbeat.name} pinged successfully at {when(ended, tz)}, after {lasted} {state}."
    HeartbeatOutage.objects.filter(pk=outage.pk).update(ended_at=ended, end_detail=detail[:300])
    # Whoever heard it was late hears it is back, wherever the client's alerts go since.
    channels = routed_channels(heartbeat.client_id)
    heard = AlertChannel.objects.filter(alerts__dedupe_key=f"heartbeat:{outage.id}:down", enabled=True).exclude(
        id__in=[c.id for c in channels]
    )
    channels += list(heard.distinct())
    payload = {
        "heartbeat": heartbeat.name,
        "cause": outage.get_cause_display(),
        "since": outage.started_at.isoformat(),
        "until": ended.isoformat(),
        "detail": detail,
    }
    alerts_for(
        heartbeat.client_id, Alert.Kind.JOB_BACK, f"heartbeat:{outage.id}:back", payload=payload, channels=channels
    )


def pause(heartbeat: Heartbeat, now: datetime | None = None) -> None:
    """Paused: no alert about it until resumed; an outage still open ends here, without a message."""
    now = now or timezone.now()
    with transaction.atomic():
        Heartbeat.objects.filter(pk=heartbeat.pk).update(
            paused=True, alerted=Heartbeat.Alerted.UP, failures_seen=F("failures"), due_at=None
        )
        HeartbeatOutage.objects.filter(heartbeat=heartbeat, ended_at__isnull=True).update(
            ended_at=now, end_detail="Paused: no alert about it until it is resumed."
        )
    client_status.refresh_jobs([heartbeat.client_id])  # a paused job is neither late nor failed


def resume(heartbeat: Heartbeat, now: datetime | None = None) -> None:
    """Resumed: its schedule counts from now (a job stopped for a week is not late the moment it resumes), and
    the sweep looks at it on its next pass."""
    now = now or timezone.now()
    Heartbeat.objects.filter(pk=heartbeat.pk).update(paused=False, resumed_at=now, started_at=None, due_at=now)
    client_status.refresh_jobs([heartbeat.client_id])  # failed again, if its last run failed
