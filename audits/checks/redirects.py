"""Redirect checks: http to https, one canonical host, loops and chains, paths kept, sign-in callbacks not
redirected, no mixed content."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

from audits.checks.declaration import Check
from audits.checks.routes import kind_label
from audits.findings import Finding
from audits.target import PAGE_KINDS, AuditTarget
from launchready.models import Route
from launchready.net import FetchError, FetchResult, Hop, Net

PERMANENT = {301, 308}
PROBE_PATH = "/launch-ready-path-check?q=1"
_TAG = re.compile(r"<(script|link|iframe)\b([^>]*)>", re.IGNORECASE)
_URL_ATTR = re.compile(r"\b(?:src|href)\s*=\s*[\"'](http://[^\"'\s>]+)", re.IGNORECASE)
_REL = re.compile(r"\brel\s*=\s*[\"']([^\"']*)", re.IGNORECASE)
# A <link> loads something only for these relations; canonical, alternate or preconnect load nothing.
LOADING_RELS = {"stylesheet", "preload", "modulepreload", "icon", "manifest"}


def insecure_resources(html: str) -> list[str]:
    """Scripts, styles and frames an https page would load over plain http (which browsers block)."""
    found = set()
    for tag, attributes in _TAG.findall(html):
        url = _URL_ATTR.search(attributes)
        if url is None:
            continue
        if tag.lower() == "link":
            rel = _REL.search(attributes)
            if rel is None or not LOADING_RELS & set(rel.group(1).lower().split()):
                continue
        found.add(url.group(1))
    return sorted(found)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def to_canonical(result: FetchResult, canonical: str) -> list[Hop]:
    """The hops up to the first answer on https://<canonical host> (all of them if it never gets there)."""
    for i, hop in enumerate(result.hops):
        if hop.url.startswith("https://") and _host(hop.url) == canonical:
            return result.hops[: i + 1]
    return result.hops


def _serves(result: FetchResult) -> bool:
    """Answers with content itself, on its own host (a 4xx from a CDN, or a redirect, is not serving)."""
    return result.ok and len(result.hops) == 1 and result.final.status is not None and 200 <= result.final.status < 300


def _chain(result: FetchResult) -> str:
    return " → ".join(f"{hop.url} ({hop.status or hop.error})" for hop in result.hops)


def _loop_or_too_many(url: str, result: FetchResult) -> list[Finding]:
    if result.error == FetchError.REDIRECT_LOOP:
        return [Finding("redirect.loop", url, {"chain": _chain(result)}, {"url": url}, host=_host(url))]
    if result.error == FetchError.TOO_MANY_REDIRECTS:
        return [
            Finding(
                "redirect.too_many",
                url,
                {"chain": _chain(result)},
                {"url": url, "limit": len(result.hops) - 1},
                host=_host(url),
            )
        ]
    return []


async def check_redirects(target: AuditTarget, net: Net) -> list[Finding]:
    canonical, other = target.canonical_name, target.other_name
    starts = [f"http://{canonical}/", f"http://{other}/", f"https://{other}/", f"https://{canonical}/"]
    deep = f"http://{other}{PROBE_PATH}"
    results = await asyncio.gather(*(net.page(url) for url in starts), net.page(deep))
    by_url = dict(zip([*starts, deep], results, strict=True))
    findings: list[Finding] = []
    for url, result in by_url.items():
        findings.extend(_loop_or_too_many(url, result))
    if findings:
        return findings
    http_canonical = by_url[f"http://{canonical}/"]
    if http_canonical.ok and http_canonical.final.url.startswith("http://"):
        findings.append(
            Finding(
                "redirect.http_not_https",
                canonical,
                {"chain": _chain(http_canonical)},
                {"host": canonical},
                host=canonical,
            )
        )
    for url, result in by_url.items():
        # Only the move onto the canonical host counts: where the app sends a visitor afterwards
        # (a sign-in page, say) is the app's business, not a redirect problem.
        move = to_canonical(result, canonical)
        if result.ok and len(move) > 3:
            findings.append(
                Finding(
                    "redirect.long_chain",
                    url,
                    {"chain": _chain(result)},
                    {"url": url, "hops": len(move) - 1, "chain": _chain(result), "final": move[-1].url},
                    host=_host(url),
                )
            )
    findings.extend(_canonical(target, by_url))
    deep_result = by_url[deep]
    landed = to_canonical(deep_result, canonical)[-1]
    if (
        deep_result.ok
        and len(deep_result.hops) > 1
        and _host(landed.url) == canonical
        and urlsplit(landed.url).path.rstrip("/") != urlsplit(PROBE_PATH).path
    ):
        findings.append(
            Finding(
                "redirect.drops_path",
                other,
                {"chain": _chain(deep_result)},
                {"url": deep, "final": deep_result.final.url, "canonical": canonical},
                host=other,
            )
        )
    return findings


def _canonical(target: AuditTarget, by_url: dict[str, FetchResult]) -> list[Finding]:
    canonical, other = target.canonical_name, target.other_name
    other_result = by_url[f"https://{other}/"]
    canonical_result = by_url[f"https://{canonical}/"]
    findings: list[Finding] = []
    if not (canonical_result.ok or other_result.ok):
        return findings
    settled = {_host(r.final.url) for r in (canonical_result, other_result) if r.ok}
    if _serves(other_result) and _serves(canonical_result):
        findings.append(
            Finding(
                "redirect.both_hosts_serve",
                target.apex,
                {"serving": sorted(settled)},
                {"apex": target.apex, "canonical": canonical},
            )
        )
    elif canonical_result.ok and _host(canonical_result.final.url) != canonical:
        findings.append(
            Finding(
                "redirect.wrong_canonical",
                target.apex,
                {"chain": _chain(canonical_result)},
                {"expected": canonical, "actual": _host(canonical_result.final.url)},
            )
        )
    if other_result.ok and len(other_result.hops) > 1:
        first = other_result.hops[0]
        if first.status not in PERMANENT and first.status is not None:
            findings.append(
                Finding(
                    "redirect.temporary",
                    f"https://{other}/",
                    {"status": first.status},
                    {"url": f"https://{other}/", "status": first.status},
                    host=other,
                )
            )
    return findings


async def check_callback_routes(target: AuditTarget, net: Net) -> list[Finding]:
    # A webhook's redirect is judged on the POST a provider sends it (checks/webhooks.py), not on a GET.
    callbacks = [r for r in target.routes if r.kind == Route.Kind.AUTH_CALLBACK]
    results = await asyncio.gather(*(net.page(r.url, follow_redirects=False) for r in callbacks))
    findings = []
    for route, result in zip(callbacks, results, strict=True):
        hop = result.final
        if hop.status in (301, 302, 303, 307, 308):
            findings.append(
                Finding(
                    "redirect.on_callback",
                    route.url,
                    {"status": hop.status, "location": hop.location},
                    {"kind": kind_label(route.kind).lower(), "url": route.url, "final": hop.location or "?"},
                    host=_host(route.url),
                    route_kind=route.kind,
                )
            )
    return findings


async def check_mixed_content(target: AuditTarget, net: Net) -> list[Finding]:
    pages = [target.homepage] + [r.url for r in target.routes if r.kind in PAGE_KINDS]
    results = await asyncio.gather(*(net.page(url) for url in dict.fromkeys(pages)))
    findings = []
    for url, result in zip(dict.fromkeys(pages), results, strict=True):
        if not result.ok or not result.final.url.startswith("https://"):
            continue
        insecure = insecure_resources(result.text)
        if insecure:
            findings.append(
                Finding(
                    "redirect.mixed_content",
                    url,
                    {"resources": insecure[:10]},
                    {"url": url, "resources": insecure[:5]},
                    host=_host(url),
                )
            )
    return findings


CHECKS = (
    Check(
        "redirects",
        check_redirects,
        frozenset(
            {
                "redirect.http_not_https",
                "redirect.loop",
                "redirect.too_many",
                "redirect.long_chain",
                "redirect.both_hosts_serve",
                "redirect.wrong_canonical",
                "redirect.drops_path",
                "redirect.temporary",
            }
        ),
    ),
    Check("redirects.callbacks", check_callback_routes, frozenset({"redirect.on_callback"})),
    Check("redirects.mixed_content", check_mixed_content, frozenset({"redirect.mixed_content"})),
)
