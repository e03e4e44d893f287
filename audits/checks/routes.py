"""Route checks: each route that must work at launch answers as expected, quickly. A webhook route is only
checked here for being reachable: the webhooks check judges how it answers an event."""

from __future__ import annotations

import asyncio
import math

from audits.catalog import route_impact
from audits.checks.declaration import Check
from audits.findings import Finding, Severity, host_of
from audits.target import CALLBACK_KINDS, CRITICAL_ROUTE_KINDS, AuditTarget, RouteSpec
from launchready.models import Route
from launchready.net import FetchResult, Net
from launchready.timing import timed

TTFB_BUDGET_MS = 2000
P95_BUDGET_MS = 500
SAMPLES = 5  # a small, bounded sample, one request after another: the audit stays polite to a founder's server
SLOW_SAMPLES = 2  # one slow request in five is noise (a cold connection, a busy moment), not a slow route


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def kind_label(kind: str) -> str:
    """A route's kind as the findings name it ("API health")."""
    return str(Route.Kind(kind).label) if kind in Route.Kind.values else kind.replace("_", " ").capitalize()


async def check_route(route: RouteSpec, net: Net) -> list[Finding]:
    # No redirect following for webhooks and callbacks: they must answer themselves.
    follow = route.kind not in CALLBACK_KINDS
    if route.kind == Route.Kind.WEBHOOK:
        # Whether a webhook can be reached at all; how it takes an event is judged on a POST (checks/webhooks.py).
        return evaluate_route(route, await net.page(route.url, follow_redirects=False), [])
    # The page (shared with the other checks) says what the route answers; the samples, timed in the
    # timing process, say how fast: with other audits in flight, the page's own timer counts their work.
    first, samples = await asyncio.gather(
        net.page(route.url, follow_redirects=follow),
        timed(
            net,
            route.url,
            count=SAMPLES,
            follow_redirects=follow,
            max_bytes=65536,
            budgets_ms=(P95_BUDGET_MS, TTFB_BUDGET_MS),
            slow=(P95_BUDGET_MS, SLOW_SAMPLES),
        ),
    )
    return evaluate_route(route, first, samples)


def evaluate_route(route: RouteSpec, first: FetchResult, samples: list[FetchResult]) -> list[Finding]:
    """Judge a route by its page (status, keyword) and by its timing samples (first byte, p95); the
    first sample, on a new connection, is the one a first visitor waits for. Each sample counts for its
    time less how late the timer was when the answer came in (FetchResult.lag_ms)."""
    severity = Severity.BLOCKER if route.kind in CRITICAL_ROUTE_KINDS else Severity.HIGH
    params = {
        "kind": kind_label(route.kind),
        "url": route.url,
        "expected": " or ".join(map(str, route.expected_statuses)),
    }
    host = host_of(route.url)
    final = first.final
    evidence = {"chain": [(h.url, h.status, h.error and str(h.error)) for h in first.hops]}
    if not first.ok:
        return [
            Finding(
                "route.unreachable",
                route.url,
                evidence | {"detail": final.detail},
                params | {"detail": final.detail or str(final.error)},
                severity,
                host=host,
                route_kind=route.kind,
            )
        ]
    if route.kind == Route.Kind.WEBHOOK:
        return []  # its status, redirect and speed on a GET say nothing of how it takes an event
    findings: list[Finding] = []
    if final.status not in route.expected_statuses:
        findings.append(
            Finding(
                "route.unexpected_status",
                route.url,
                evidence,
                params | {"status": final.status, "impact": route_impact(route.kind)},
                severity,
                host=host,
                route_kind=route.kind,
            )
        )
    elif route.keyword and route.keyword.lower() not in first.text.lower():
        findings.append(
            Finding(
                "route.keyword_missing",
                route.url,
                evidence | {"bytes": len(first.body)},
                params | {"keyword": route.keyword},
                severity,
                host=host,
                route_kind=route.kind,
            )
        )
    # How late the timing process was to read an answer is not the server's time.
    answered = [r for r in samples if r.ok]
    ttfb = max(0.0, sum(h.ttfb_ms for h in answered[0].hops) - answered[0].lag_ms) if answered else 0.0
    if ttfb > TTFB_BUDGET_MS:
        findings.append(
            Finding(
                "route.slow_ttfb",
                route.url,
                {"ttfb_ms": round(ttfb)},
                params | {"ttfb": round(ttfb)},
                host=host,
                route_kind=route.kind,
            )
        )
    timings = [max(0.0, sum(h.elapsed_ms for h in r.hops) - r.lag_ms) for r in answered]
    slow = sum(t > P95_BUDGET_MS for t in timings)
    if len(timings) >= 3 and slow >= SLOW_SAMPLES and ttfb <= TTFB_BUDGET_MS:
        findings.append(
            Finding(
                "route.slow_p95",
                route.url,
                {"samples_ms": [round(t) for t in timings]},
                params | {"p95": round(p95(timings)), "samples": len(timings)},
                host=host,
                route_kind=route.kind,
            )
        )
    return findings


async def check_routes(target: AuditTarget, net: Net) -> list[Finding]:
    results = await asyncio.gather(*(check_route(route, net) for route in target.routes))
    return [f for group in results for f in group]


CHECKS = (
    Check(
        "routes",
        check_routes,
        frozenset(
            {
                "route.unreachable",
                "route.unexpected_status",
                "route.keyword_missing",
                "route.slow_ttfb",
                "route.slow_p95",
            }
        ),
    ),
)
