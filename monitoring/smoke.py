"""The smoke test after a deploy: one route of each kind that matters, probed at once, then the client's
enabled journeys (signed in, as a customer is); an error or a step over 2 s fails it, and a failure alerts.
Then "every job pinged since the deploy": each heartbeat of the client waits for its first ping after the
deploy until its first expected time after it, plus grace; one that does not come is a warning on the deploy
(the verdict stays the routes' and journeys', given in seconds for CI to read, and the job's own lateness
alert is what tells)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from launchready.formatting import moment
from launchready.models import Client, Route
from launchready.net import Net
from monitoring import heartbeat_schedule as schedule
from monitoring.alerts import alerts_for
from monitoring.journeys import run_journey_now
from monitoring.models import Alert, Deploy, Heartbeat, Journey, JourneyRun

SMOKE_KINDS = [Route.Kind.HOMEPAGE, Route.Kind.LOGIN, Route.Kind.DASHBOARD, Route.Kind.API_HEALTH]
SMOKE_BUDGET_MS = 2000


def smoke_routes(client: Client) -> list[Route]:
    """One route of each kind that matters after a deploy: homepage, login, dashboard, an API endpoint."""
    routes = Route.objects.filter(domain__client=client, kind__in=SMOKE_KINDS).select_related("domain")
    chosen: dict[str, Route] = {}
    for route in routes.order_by("created"):
        chosen.setdefault(route.kind, route)
    return [chosen[k] for k in SMOKE_KINDS if k in chosen]


async def _probe(routes: list[Route]) -> list[dict[str, Any]]:
    async with Net() as net:

        async def one(route: Route) -> dict[str, Any]:
            started = time.monotonic()
            result = await net.fetch(route.url, max_bytes=65536)
            elapsed = (time.monotonic() - started) * 1000
            status = result.final.status
            problem = ""
            if result.error is not None:
                problem = f"{result.error}: {result.final.detail}"
            elif status not in (route.expected_statuses or [200]):
                problem = f"answered {status}"
            elif elapsed > SMOKE_BUDGET_MS:
                problem = f"took {elapsed:.0f} ms (budget {SMOKE_BUDGET_MS} ms)"
            return {
                "url": route.url,
                "kind": route.kind,
                "status": status,
                "ms": round(elapsed),
                "ok": not problem,
                "problem": problem,
            }

        return list(await asyncio.gather(*(one(r) for r in routes)))


def smoke_journeys(client: Client) -> list[dict[str, Any]]:
    """Each enabled journey of the client run once, as a result row like a route's: its failing step, or
    its first step over the budget."""
    results = []
    for journey in Journey.objects.filter(client=client, enabled=True, steps__isnull=False).distinct():
        run = run_journey_now(journey, trigger=JourneyRun.Trigger.DEPLOY)
        slow = [s for s in run.steps if s["ran"] and s["ms"] > SMOKE_BUDGET_MS]
        problem = "" if run.ok else run.summary
        if not problem and slow:
            problem = f"“{slow[0]['name']}” took {slow[0]['ms']:.0f} ms (budget {SMOKE_BUDGET_MS} ms)"
        results.append(
            {
                "url": journey.name,
                "kind": "journey",
                "status": None,
                "ms": round(run.ms),
                "ok": not problem,
                "problem": problem,
                "run": str(run.code),
            }
        )
    return results


def smoke_test(deploy: Deploy) -> Deploy:
    results = asyncio.run(_probe(smoke_routes(deploy.client))) + smoke_journeys(deploy.client)
    passed = all(r["ok"] for r in results)
    deploy.smoke = Deploy.Smoke.PASSED if passed else Deploy.Smoke.FAILED
    deploy.smoke_results = results
    deploy.smoke_finished_at = timezone.now()
    deploy.save(update_fields=["smoke", "smoke_results", "smoke_finished_at"])
    start_job_checks(deploy)
    if not passed:
        failing = "; ".join(f"{r['url']} {r['problem']}" for r in results if not r["ok"])
        alerts_for(
            deploy.client_id,
            Alert.Kind.DEPLOY,
            f"deploy:{deploy.id}",
            payload={
                "deploy": deploy.version or deploy.commit[:8],
                "detail": f"After the {deploy.environment} deploy: {failing}",
            },
        )
    return deploy


# --- every job pinged since the deploy -------------------------------------------------------------------

WAITING, PINGED, MISSED, GONE = "waiting", "pinged", "missed", "gone"
FOLLOW_LIMIT = 200  # deploys settled per sweep


def start_job_checks(deploy: Deploy) -> None:
    """One check per heartbeat not paused: waiting until its first expected ping after the deploy, plus grace."""
    checks = []
    for heartbeat in Heartbeat.objects.filter(client_id=deploy.client_id, paused=False).select_related("client"):
        tz = schedule.zone(heartbeat.client.timezone)
        expected = schedule.expected_at(heartbeat, tz)
        if expected is None or expected <= deploy.created:  # its next run is after the deploy, not before it
            expected = schedule.after(heartbeat, deploy.created, tz)
        if expected is None:  # a schedule no time satisfies: nothing to wait for
            continue
        checks.append(
            {
                "heartbeat": str(heartbeat.code),
                "name": heartbeat.name,
                "expected_by": (expected + schedule.grace(heartbeat)).isoformat(),
                "state": WAITING,
                "pinged_at": None,
                "failed": False,
            }
        )
    Deploy.objects.filter(pk=deploy.pk).update(job_checks=checks, jobs_waiting=bool(checks))
    deploy.job_checks, deploy.jobs_waiting = checks, bool(checks)


def follow_job_checks(now: datetime | None = None) -> int:
    """Settle the checks still waiting: pinged once a success or failure came after the deploy, missed once
    the time passed without one. Deploys are claimed row by row (skip locked), so workers share them."""
    now = now or timezone.now()
    settled = 0
    with transaction.atomic():
        deploys = list(
            Deploy.objects.select_for_update(skip_locked=True)
            .filter(jobs_waiting=True)
            .order_by("created")[:FOLLOW_LIMIT]
        )
        codes = {c["heartbeat"] for d in deploys for c in d.job_checks if c.get("state") == WAITING}
        heartbeats = {str(h.code): h for h in Heartbeat.objects.filter(code__in=codes)}
        for deploy in deploys:
            checks = [_settle(c, deploy, heartbeats.get(c.get("heartbeat", "")), now) for c in deploy.job_checks]
            settled += sum(1 for old, new in zip(deploy.job_checks, checks, strict=True) if old != new)
            waiting = any(c["state"] == WAITING for c in checks)
            Deploy.objects.filter(pk=deploy.pk).update(job_checks=checks, jobs_waiting=waiting)
    return settled


def _settle(check: dict[str, Any], deploy: Deploy, heartbeat: Heartbeat | None, now: datetime) -> dict[str, Any]:
    if check.get("state") != WAITING:
        return check
    if heartbeat is None:
        return {**check, "state": GONE}
    ran, expected_by = schedule.last_run(heartbeat), datetime.fromisoformat(check["expected_by"])
    if ran is not None and ran >= deploy.created:
        # A ping after its time is still a miss (the sweep came by late): the deploy kept the job waiting.
        state = PINGED if ran <= expected_by else MISSED
        return {**check, "state": state, "pinged_at": ran.isoformat(), "failed": heartbeat.last_failure_at == ran}
    if now >= expected_by:
        return {**check, "state": MISSED}
    return check


def job_check_lines(deploy: Deploy, tz: Any) -> list[tuple[str, str, str]]:
    """Each job check of a deploy in words: (state, the job's name, what happened), missed ones first."""
    lines = []
    for check in deploy.job_checks or []:
        state, name = check.get("state", ""), str(check.get("name", ""))
        expected_by = moment(datetime.fromisoformat(check["expected_by"]), tz) if check.get("expected_by") else ""
        if state == PINGED:
            pinged = moment(datetime.fromisoformat(check["pinged_at"]), tz)
            words = f"ran {pinged}, and reported a failure" if check.get("failed") else f"pinged {pinged}"
        elif state == MISSED:
            words = f"not pinged since the deploy: expected by {expected_by}"
        elif state == GONE:
            words = "removed since the deploy"
        else:
            words = f"waiting for its first ping since the deploy (expected by {expected_by})"
        lines.append((state, name, words))
    order = {MISSED: 0, WAITING: 1, PINGED: 2, GONE: 3}
    return sorted(lines, key=lambda line: order.get(line[0], 9))
