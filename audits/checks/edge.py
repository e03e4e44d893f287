"""Edge and caching checks: CDN in front or not, origin exposed, static caching, private pages kept
out of shared caches, compression."""

from __future__ import annotations

import asyncio
import ipaddress
import re
from urllib.parse import urljoin, urlsplit

from audits.checks.declaration import Check
from audits.findings import Finding, host_of
from audits.target import PAGE_KINDS, AuditTarget
from launchready.net import FetchResult, Hop, Net

# Cloudflare's published IPv4 ranges (cloudflare.com/ips-v4); a response header usually tells first.
CLOUDFLARE_RANGES = [
    ipaddress.ip_network(n)
    for n in (
        "173.245.48.0/20",
        "103.21.244.0/22",
        "103.22.200.0/22",
        "103.31.4.0/22",
        "141.101.64.0/18",
        "108.162.192.0/18",
        "190.93.240.0/20",
        "188.114.96.0/20",
        "197.234.240.0/22",
        "198.41.128.0/17",
        "162.158.0.0/15",
        "104.16.0.0/13",
        "104.24.0.0/14",
        "172.64.0.0/13",
        "131.0.72.0/22",
    )
]
CDN_HEADERS = {
    "cf-ray": "Cloudflare",
    "x-amz-cf-id": "Amazon CloudFront",
    "x-served-by": "Fastly",
    "x-vercel-id": "Vercel",
    "x-nf-request-id": "Netlify",
    "fly-request-id": "Fly.io",
    "x-azure-ref": "Azure Front Door",
    "akamai-grn": "Akamai",
}
SERVER_CDNS = {
    "cloudflare": "Cloudflare",
    "cloudfront": "Amazon CloudFront",
    "akamaighost": "Akamai",
    "vercel": "Vercel",
    "netlify": "Netlify",
}
SESSION_COOKIE = re.compile(r"sess|sid|auth|token|jwt|login|remember", re.IGNORECASE)
CSRF_COOKIE = re.compile(r"csrf|xsrf", re.IGNORECASE)  # meant to be read by scripts: not a session cookie


def is_session_cookie(name: str) -> bool:
    return bool(SESSION_COOKIE.search(name)) and not CSRF_COOKIE.search(name)


_ASSET = re.compile(
    r"<(?:script[^>]*\bsrc|link[^>]*\bhref)\s*=\s*[\"']([^\"']+\.(?:js|css)(?:\?[^\"']*)?)[\"']", re.IGNORECASE
)
STATIC_MIN_AGE = 7 * 86400


def cdn_of(hop: Hop) -> str | None:
    for header, name in CDN_HEADERS.items():
        if hop.header(header):
            return name
    server = (hop.header("server") or "").lower()
    for key, name in SERVER_CDNS.items():
        if key in server:
            return name
    try:
        address = ipaddress.ip_address(hop.address)
    except ValueError:
        return None
    return "Cloudflare" if any(address in net for net in CLOUDFLARE_RANGES) else None


def cache_control(hop: Hop) -> dict[str, str]:
    directives: dict[str, str] = {}
    for part in ",".join(hop.header_all("cache-control")).split(","):
        key, _, value = part.strip().partition("=")
        if key:
            directives[key.lower()] = value.strip('"')
    return directives


def asset_urls(result: FetchResult) -> list[str]:
    base = result.final.url
    host = urlsplit(base).hostname
    urls = [urljoin(base, m.group(1)) for m in _ASSET.finditer(result.text)]
    return [u for u in dict.fromkeys(urls) if urlsplit(u).hostname == host]


async def check_edge(target: AuditTarget, net: Net) -> list[Finding]:
    home = await net.page(target.homepage)
    if not home.ok:
        return []
    findings: list[Finding] = []
    cdn = cdn_of(home.final)
    if cdn is not None:  # the good state, recorded as a fact: the checklist ticks only on evidence
        findings.append(
            Finding(
                "edge.cdn",
                target.canonical_name,
                {"cdn": cdn},
                {"host": target.canonical_name, "cdn": cdn},
                host=target.canonical_name,
            )
        )
    else:
        findings.append(
            Finding(
                "edge.no_cdn",
                target.canonical_name,
                {"server": home.final.header("server")},
                {"host": target.canonical_name},
                host=target.canonical_name,
            )
        )
    assets = asset_urls(home)[:3]
    pages = [target.homepage] + [r.url for r in target.routes if r.kind in PAGE_KINDS]
    # The origin probe, the assets and the pages do not depend on each other: one round trip, not two.
    exposed, asset_results, page_results = await asyncio.gather(
        _origin_exposed(target, net) if cdn is not None else _nothing(),
        asyncio.gather(*(net.page(u) for u in assets)),
        asyncio.gather(*(net.page(u) for u in dict.fromkeys(pages))),
    )
    findings.extend(exposed)
    for url, result in zip(assets, asset_results, strict=True):
        if not result.ok or result.final.status != 200:
            continue
        cc = cache_control(result.final)
        age = int(cc.get("max-age", "0") or 0) if cc.get("max-age", "0").isdigit() else 0
        if "no-store" in cc or ("immutable" not in cc and age < STATIC_MIN_AGE):
            findings.append(
                Finding(
                    "edge.static_no_cache",
                    url,
                    {"cache-control": result.final.header("cache-control")},
                    {"asset": url, "cache_control": result.final.header("cache-control") or "none"},
                    host=host_of(url),
                )
            )
            break
    for url, result in zip(dict.fromkeys(pages), page_results, strict=True):
        if not result.ok:
            continue
        hop = result.final
        cc = cache_control(hop)
        cookies = [c for c in hop.header_all("set-cookie") if is_session_cookie(c.split("=", 1)[0].strip())]
        shared = "public" in cc or int(cc.get("s-maxage", "0") or 0 if cc.get("s-maxage", "0").isdigit() else 0) > 0
        if cookies and shared and "private" not in cc and "no-store" not in cc:
            findings.append(
                Finding(
                    "edge.shared_cache_private",
                    url,
                    {"cache-control": hop.header("cache-control"), "set-cookie": [c.split("=", 1)[0] for c in cookies]},
                    {"url": url, "cache_control": hop.header("cache-control")},
                    host=host_of(url),
                )
            )
    home_hop = home.final
    if (
        (home_hop.header("content-type") or "").startswith("text/")
        and len(home.body) > 1024
        and not home_hop.header("content-encoding")
    ):
        findings.append(
            Finding(
                "edge.no_compression",
                target.homepage,
                {"bytes": len(home.body)},
                {"url": target.homepage},
                host=target.canonical_name,
            )
        )
    return findings


async def _nothing() -> list[Finding]:
    return []


async def _origin_exposed(target: AuditTarget, net: Net) -> list[Finding]:
    others = [h for h in target.hosts if h != target.canonical_name]
    results = await asyncio.gather(*(net.page(f"https://{h}/", follow_redirects=False) for h in others))
    for host, result in zip(others, results, strict=True):
        hop = result.hops[0]
        if hop.status is not None and cdn_of(hop) is None:
            return [
                Finding(
                    "edge.origin_exposed",
                    host,
                    {"address": hop.address, "server": hop.header("server")},
                    {"record": host, "address": hop.address},
                    host=host,
                )
            ]
    return []


CHECKS = (
    Check(
        "edge",
        check_edge,
        frozenset(
            {
                "edge.no_cdn",
                "edge.cdn",
                "edge.origin_exposed",
                "edge.static_no_cache",
                "edge.shared_cache_private",
                "edge.no_compression",
            }
        ),
    ),
)
