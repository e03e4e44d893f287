"""Watches: certificate expiry (alert at 14 days, again at 3), DNS drift from the approved baseline,
email-authentication drift, and a route's p95 doubling after a deploy. Each event is recorded once and
alerts the client's channels once."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from datetime import timedelta
from typing import Any

from django.utils import timezone

from launchready.models import Domain
from launchready.net import Net
from launchready.tls import certificate_facts
from monitoring.alerts import alerts_for
from monitoring.models import Alert, Deploy, DnsBaseline, Monitor, Probe, WatchEvent
from monitoring.rollup import window

EXPIRY_STEPS = (14, 3)


def raise_event(client_id: int, kind: str, key: str, title: str, detail: dict[str, Any]) -> WatchEvent | None:
    """Record an event once; only the first sighting alerts."""
    event, created = WatchEvent.objects.get_or_create(
        client_id=client_id, key=key, defaults={"kind": kind, "title": title, "detail": detail}
    )
    if not created:
        return None
    alerts_for(client_id, Alert.Kind.WATCH, f"watch:{event.id}", payload={"title": title, "detail": _sentence(detail)})
    return event


def _sentence(detail: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in detail.items())


# --- certificate expiry ---------------------------------------------------------------------------


async def _expiries(hosts: list[str]) -> dict[str, dt.datetime | None]:
    async with Net() as net:
        infos = await asyncio.gather(*(net.handshake(h) for h in hosts))
    out: dict[str, dt.datetime | None] = {}
    for host, info in zip(hosts, infos, strict=True):
        out[host] = certificate_facts(info)[0].not_after if info.ok else None
    return out


def watch_certificates(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    monitors = Monitor.objects.filter(paused=False, url__startswith="https://").values_list("client_id", "url")
    hosts: dict[str, int] = {}
    for client_id, url in monitors:
        hosts.setdefault(url.split("/")[2].split(":")[0], client_id)
    raised = 0
    for host, not_after in asyncio.run(_expiries(sorted(hosts))).items():
        if not_after is None:
            continue
        days = (not_after - now).total_seconds() / 86400
        for step in EXPIRY_STEPS:
            if days <= step:
                title = f"The certificate for {host} expires in {max(int(days), 0)} days"
                key = f"cert:{host}:{not_after:%Y-%m-%d}:{step}"
                if raise_event(
                    hosts[host],
                    WatchEvent.Kind.CERT_EXPIRY,
                    key,
                    title,
                    {"host": host, "expires": f"{not_after:%d %B %Y}", "renew": "Renew it now"},
                ):
                    raised += 1
    return raised


# --- DNS and email-authentication drift --------------------------------------------------------------


def baseline_approve(*, domain: Domain, inventory: list[dict[str, Any]], user: Any) -> DnsBaseline:
    records = sorted({(r["name"], r["type"], r["value"]) for r in inventory})
    baseline, _ = DnsBaseline.objects.update_or_create(
        domain=domain,
        defaults={"records": [list(r) for r in records], "approved_by": user, "approved_at": timezone.now()},
    )
    return baseline


async def _current(pairs: list[tuple[str, str]]) -> set[tuple[str, str, str]]:
    async with Net() as net:
        answers = await asyncio.gather(*(net.dns(name, rtype) for name, rtype in pairs))
    found: set[tuple[str, str, str]] = set()
    for (name, rtype), answer in zip(pairs, answers, strict=True):
        if answer.is_failure:
            raise RuntimeError(f"DNS failed for {name} {rtype}")  # unknown is not drift: try again later
        found |= {(name, rtype, r.value) for r in answer.records if r.rdtype == rtype}
    return found


def _is_email_record(name: str, value: str) -> bool:
    """SPF, DMARC and DKIM records: a DKIM key lives at <selector>._domainkey.<domain>, a name the watch reads
    when the approved inventory holds one."""
    labels = name.lower().rstrip(".").split(".")
    return any(label in ("_dmarc", "_domainkey") for label in labels) or value.lower().startswith("v=spf1")


def watch_drift() -> int:
    raised = 0
    for baseline in DnsBaseline.objects.select_related("domain"):
        approved = {tuple(r) for r in baseline.records}
        pairs = sorted({(name, rtype) for name, rtype, _ in approved})
        try:
            current = asyncio.run(_current(pairs))
        except RuntimeError:
            continue
        added, removed = current - approved, approved - current
        if not added and not removed:
            continue
        changes = sorted(added | removed)
        email = [c for c in changes if _is_email_record(c[0], c[2])]
        other = [c for c in changes if c not in email]
        digest = hashlib.sha256(repr(sorted(added)).encode() + repr(sorted(removed)).encode()).hexdigest()[:16]
        domain = baseline.domain
        for kind, group, what in (
            (WatchEvent.Kind.EMAIL_DRIFT, email, "Email authentication records"),
            (WatchEvent.Kind.DNS_DRIFT, other, "DNS records"),
        ):
            if not group:
                continue
            detail = {
                "added": [" ".join(c) for c in group if c in added],
                "removed": [" ".join(c) for c in group if c in removed],
            }
            title = f"{what} of {domain.display_name} changed since the approved baseline"
            if raise_event(domain.client_id, kind, f"{kind}:{domain.id}:{digest}", title, detail):
                raised += 1
    return raised


# --- p95 regression after a deploy -------------------------------------------------------------------


def watch_p95(now: dt.datetime | None = None) -> int:
    """A route's p95 in the hours after a deploy at least double its p95 in the day before."""
    now = now or timezone.now()
    raised = 0
    deploys = Deploy.objects.filter(created__gte=now - timedelta(hours=26), created__lte=now - timedelta(hours=1))
    for deploy in deploys:
        for monitor in Monitor.objects.filter(client_id=deploy.client_id, paused=False):
            before = window(monitor, deploy.created - timedelta(hours=24), deploy.created).percentile(0.95)
            after = _raw_p95(monitor, deploy.created, now)
            if before and after and after >= 2 * before:
                title = f"{monitor.url} got slower after deploy {deploy.version or deploy.commit[:8]}"
                detail = {"p95 before": f"{before:.0f} ms", "p95 after": f"{after:.0f} ms"}
                if raise_event(
                    deploy.client_id, WatchEvent.Kind.P95_REGRESSION, f"p95:{deploy.id}:{monitor.id}", title, detail
                ):
                    raised += 1
    return raised


def _raw_p95(monitor: Monitor, start: dt.datetime, end: dt.datetime) -> float | None:
    values = sorted(
        v
        for v in Probe.objects.filter(monitor=monitor, at__gte=start, at__lt=end, ok=True).values_list(
            "latency_ms", flat=True
        )
        if v is not None
    )
    if len(values) < 5:
        return None
    return values[max(0, int(0.95 * len(values) + 0.999999) - 1)]
