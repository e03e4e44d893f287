"""The smoke test after a deploy: one route of each kind that matters, probed at once, then the client's
enabled journeys (signed in, as a customer is); an error or a step over 2 s fails it, and a failure alerts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from django.utils import timezone

from launchready.models import Client, Route
from launchready.net import Net
from monitoring.alerts import alerts_for
from monitoring.journeys import run_journey_now
from monitoring.models import Alert, Deploy, Journey, JourneyRun

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
