"""Webhook probes: a small unsigned POST to each webhook route, through net.py without following redirects.
A webhook must answer quickly, never redirect (providers do not follow, or turn the POST into a GET, and
retry until they disable the endpoint), and refuse an unsigned request with 400, 401 or 403 rather than
accept it (anyone could forge events) or fail with a 5xx (which providers retry)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from launchready.formatting import latency
from launchready.models import Client, Route
from launchready.net import REDIRECT_STATUSES, Net, NetConfig, current_config
from monitoring.journey_explain import status_words

PROBE_BODY = json.dumps(
    {"id": "evt_launchready_probe", "object": "event", "type": "launchready.probe", "data": {"object": {}}}
).encode()
PROBE_HEADERS = {"Content-Type": "application/json", "User-Agent": "LaunchReady-WebhookProbe/1.0"}
REFUSALS = (400, 401, 403)
FAST_MS = 2000  # past this a webhook is slow; providers give up at 10 to 30 s and retry
DEADLINE = 15.0  # seconds for one probe
BODY_BYTES = 16 * 1024


@dataclass(frozen=True)
class WebhookFinding:
    check_id: str
    severity: str  # blocker, high, medium, low, info: the audits' scale
    title: str
    explanation: str
    fix: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class WebhookReport:
    url: str
    status: int | None = None
    ms: float = 0.0
    location: str = ""
    error: str = ""
    findings: list[WebhookFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def webhook_urls(client: Client) -> list[str]:
    routes = Route.objects.filter(domain__client=client, kind=Route.Kind.WEBHOOK).select_related("domain")
    return [r.url for r in routes.order_by("domain__name", "host", "path")]


async def probe_webhook(url: str, net: Net) -> WebhookReport:
    report = WebhookReport(url)
    started = time.monotonic()
    try:
        async with asyncio.timeout(DEADLINE):
            result = await net.fetch(
                url,
                method="POST",
                content=PROBE_BODY,
                headers=PROBE_HEADERS,
                follow_redirects=False,
                max_bytes=BODY_BYTES,
            )
    except TimeoutError:
        report.ms = (time.monotonic() - started) * 1000
        report.error = f"no answer within {DEADLINE:.0f} s"
        report.findings.append(_unreachable(url, report.error))
        return report
    report.ms = (time.monotonic() - started) * 1000
    hop = result.final
    report.status, report.location = hop.status, hop.location or ""
    evidence = {"url": url, "status": hop.status, "ms": round(report.ms), "location": report.location}
    if result.error is not None:
        report.error = f"{result.error}: {hop.detail}"
        report.findings.append(_unreachable(url, report.error))
        return report
    status = hop.status or 0
    path = urlsplit(url).path or "/"
    if status in REDIRECT_STATUSES:
        target = urljoin(url, report.location) if report.location else "nowhere"
        report.findings.append(
            WebhookFinding(
                "webhook.redirects",
                "high",
                f"The webhook {path} answers a POST with a redirect ({status_words(status)})",
                f"{url} answered an event with {status_words(status)} to {target}. Webhook providers do not follow "
                "redirects (Stripe, GitHub and Slack count them as failures), and those that do turn a 301 or 302 "
                "into a GET without the event: every event is retried until the provider disables the endpoint.",
                f"Register the final address ({target}) with the provider, or answer on {path} itself "
                "(a trailing-slash or canonical-host rule in front of the app is the usual cause).",
                evidence,
            )
        )
    elif 200 <= status < 300:
        report.findings.append(
            WebhookFinding(
                "webhook.accepts_unsigned",
                "high",
                f"The webhook {path} accepts an unsigned request",
                f"{url} answered {status_words(status)} to an event with no signature: anyone who knows the "
                "address can send it events (a payment that never happened, a cancelled plan).",
                "Verify the provider's signature before acting on an event (Stripe's Stripe-Signature with the "
                "endpoint's signing secret, GitHub's X-Hub-Signature-256), and answer 400 when it is missing or wrong.",
                evidence,
            )
        )
    elif status >= 500:
        report.findings.append(
            WebhookFinding(
                "webhook.fails_unsigned",
                "high",
                f"The webhook {path} fails with {status_words(status)} on an unsigned request",
                f"{url} answered {status_words(status)} instead of refusing the request: providers retry every "
                "5xx, and a handler that crashes on a request it should refuse reads the event before checking "
                "who sent it.",
                "Check the signature first and answer 400 when it is missing or wrong, before parsing the event.",
                evidence,
            )
        )
    elif status in (404, 410):
        report.findings.append(
            WebhookFinding(
                "webhook.not_found",
                "high",
                f"The webhook {path} does not exist ({status_words(status)})",
                f"{url} answered {status_words(status)}: the provider's events go nowhere; they are retried, then "
                "dropped.",
                "Deploy the webhook handler at this address, or register the address it has with the provider.",
                evidence,
            )
        )
    elif status == 405:
        report.findings.append(
            WebhookFinding(
                "webhook.post_refused",
                "high",
                f"The webhook {path} refuses POST ({status_words(status)})",
                f"{url} does not take a POST, which is how every provider delivers events.",
                "Route POST requests on this address to the webhook handler.",
                evidence,
            )
        )
    if report.ms > FAST_MS and result.error is None:
        report.findings.append(
            WebhookFinding(
                "webhook.slow",
                "medium",
                f"The webhook {path} takes {latency(report.ms)} to answer",
                f"{url} took {latency(report.ms)} to answer a request it should turn away at once. Providers give "
                "up after 10 to 30 s and retry; a handler that does its work before answering piles up retries.",
                "Answer as soon as the signature is checked and do the work in a background job.",
                evidence,
            )
        )
    return report


def _unreachable(url: str, error: str) -> WebhookFinding:
    return WebhookFinding(
        "webhook.unreachable",
        "high",
        f"The webhook {urlsplit(url).path or '/'} cannot be reached",
        f"{url} could not be reached ({error}): the provider retries its events for a while, then disables the "
        "endpoint.",
        "Check the host's DNS, certificate and server.",
        {"url": url, "error": error},
    )


async def probe_all(urls: list[str], config: NetConfig | None = None) -> list[WebhookReport]:
    async with Net(config or current_config()) as net:
        return list(await asyncio.gather(*(probe_webhook(u, net) for u in urls)))


def probe_webhooks(urls: list[str], config: NetConfig | None = None) -> list[WebhookReport]:
    """Probe each webhook address at once (from synchronous code: a task, the smoke test, the audit)."""
    return asyncio.run(probe_all(urls, config))
