"""Webhook checks: one small unsigned event POSTed to each webhook route, as a provider delivers one, without
following redirects. A webhook must answer itself (providers do not follow redirects, or turn the POST into a
GET without the event, and retry until they disable the endpoint), refuse an event with no signature (400, 401
or 403: one it accepts could be forged by anyone) without failing (a 5xx is retried too), and answer quickly.

Whether the route can be reached at all is the routes check's finding (route.unreachable); a webhook's GET says
nothing of how it takes an event, so everything else about a webhook is judged here, on its POST. The POST is
timed in the timing process, as the routes' samples are, and sent once: no retake, whatever its time."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urljoin, urlsplit

from audits.checks.declaration import Check
from audits.findings import Finding, host_of
from audits.target import AuditTarget, RouteSpec
from launchready.formatting import latency, status_words
from launchready.logs import scrub_text
from launchready.models import Route
from launchready.net import REDIRECT_STATUSES, FetchResult, Net
from launchready.timing import timed

PROBE_BODY = json.dumps(
    {"id": "evt_launchready_probe", "object": "event", "type": "launchready.probe", "data": {"object": {}}}
).encode()
PROBE_HEADERS = {"Content-Type": "application/json", "User-Agent": "LaunchReady-WebhookProbe/1.0"}
FAST_MS = 2000  # past this a webhook is slow; providers give up at 10 to 30 s and retry
BODY_BYTES = 16 * 1024  # the answer is not kept: its status, time and Location say it all
LOCATION_CHARS = 300  # a redirect's Location, as evidence, at most this long


async def probe_webhook(route: RouteSpec, net: Net) -> tuple[FetchResult, float | None]:
    """The webhook's answer to one unsigned event, and how long it took (None when there is no timer: the
    answer is then read here, and the webhook's speed is not judged)."""
    samples = await timed(
        net,
        route.url,
        count=1,
        method="POST",
        headers=PROBE_HEADERS,
        content=PROBE_BODY,
        follow_redirects=False,
        max_bytes=BODY_BYTES,
    )
    if samples:
        result = samples[0]
        return result, max(0.0, sum(hop.elapsed_ms for hop in result.hops) - result.lag_ms)
    answer = await net.fetch(
        route.url,
        method="POST",
        headers=PROBE_HEADERS,
        content=PROBE_BODY,
        follow_redirects=False,
        max_bytes=BODY_BYTES,
    )
    return answer, None


def evaluate_webhook(route: RouteSpec, result: FetchResult, ms: float | None) -> list[Finding]:
    """Judge a webhook by its answer to an unsigned event: a redirect, an accepted or failed event, a missing
    handler or a refused POST, and an answer over FAST_MS. No answer at all is the routes check's finding."""
    if not result.ok:
        return []
    hop = result.final
    status = hop.status or 0
    url = route.url
    evidence: dict[str, object] = {"url": url, "status": status}
    if ms is not None:
        evidence["ms"] = round(ms)
    params: dict[str, object] = {"url": url, "path": urlsplit(url).path or "/", "status": status_words(status)}

    def finding(check_id: str, **more: object) -> Finding:
        return Finding(check_id, url, dict(evidence), params | more, host=host_of(url), route_kind=route.kind)

    findings: list[Finding] = []
    if status in REDIRECT_STATUSES:
        location = scrub_text(hop.location or "")[:LOCATION_CHARS]
        evidence["location"] = location
        target = urljoin(url, location) if location else "no address (the redirect names none)"
        findings.append(finding("webhook.redirects", target=target))
    elif 200 <= status < 300:
        findings.append(finding("webhook.accepts_unsigned"))
    elif status >= 500:
        findings.append(finding("webhook.fails_unsigned"))
    elif status in (404, 410):
        findings.append(finding("webhook.not_found"))
    elif status == 405:
        findings.append(finding("webhook.post_refused"))
    if ms is not None and ms > FAST_MS:
        findings.append(finding("webhook.slow", took=latency(ms)))
    return findings


async def check_webhook(route: RouteSpec, net: Net) -> list[Finding]:
    result, ms = await probe_webhook(route, net)
    return evaluate_webhook(route, result, ms)


def webhook_routes(target: AuditTarget) -> list[RouteSpec]:
    return [route for route in target.routes if route.kind == Route.Kind.WEBHOOK]


async def check_webhooks(target: AuditTarget, net: Net) -> list[Finding]:
    results = await asyncio.gather(*(check_webhook(route, net) for route in webhook_routes(target)))
    return [f for group in results for f in group]


CHECKS = (
    Check(
        "webhooks",
        check_webhooks,
        frozenset(
            {
                "webhook.redirects",
                "webhook.accepts_unsigned",
                "webhook.fails_unsigned",
                "webhook.not_found",
                "webhook.post_refused",
                "webhook.slow",
            }
        ),
        applies=lambda target: bool(webhook_routes(target)),
    ),
)
