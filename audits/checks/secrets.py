"""Secrets in public bundles: the JavaScript the client's pages load, and the source maps those scripts name,
fetched through net.py (a bounded number of files, bounded bytes, same-site hosts only) and scanned."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from urllib.parse import unquote, urljoin, urlsplit

from audits.checks.declaration import Check
from audits.findings import Finding
from audits.secrets.detector import Hit, Kind, scan_text
from audits.secrets.providers import with_article
from audits.target import PAGE_KINDS, AuditTarget
from launchready.net import FetchResult, Net

MAX_SCRIPTS = 12
# A Google key made for a page (Maps, a Firebase config), by provider: one to restrict, as the repository scan says
# of a committed one (audits/secrets/repo.py).
RESTRICTED_FINDINGS = {"gcp_api_key": "secrets.bundle.google_key", "firebase_web": "secrets.bundle.firebase_key"}
MAX_SCRIPT_BYTES = 3_000_000
MAX_MAP_BYTES = 6_000_000

_SCRIPT = re.compile(r"<script\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
_MAP_COMMENT = re.compile(r"[#@]\s*sourceMappingURL\s*=\s*([^\s'\"*]+)")


def same_site(url: str, target: AuditTarget) -> bool:
    """A script on the client's own domain (any host under the apex) or on a CDN host declared for it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    return host == target.apex or host.endswith(f".{target.apex}") or host in target.asset_hosts


def script_urls(page: FetchResult, target: AuditTarget) -> list[str]:
    base = page.final.url
    urls = [urljoin(base, unquote(m.group(1)).strip()) for m in _SCRIPT.finditer(page.text)]
    return [u for u in dict.fromkeys(urls) if same_site(u, target)]


def source_map_ref(script: FetchResult) -> str | None:
    """Where a script says its source map is: the SourceMap header, or the last sourceMappingURL comment."""
    header = script.final.header("sourcemap") or script.final.header("x-sourcemap")
    if header:
        return header.strip()
    found = _MAP_COMMENT.findall(script.text[-4000:])
    return found[-1] if found else None


def inline_map(ref: str) -> str | None:
    """The text of a `data:` source map, or None when it is not one (or cannot be decoded)."""
    if not ref.startswith("data:"):
        return None
    meta, _, data = ref[5:].partition(",")
    try:
        raw = base64.b64decode(data, validate=False) if meta.endswith(";base64") else unquote(data).encode()
    except (binascii.Error, ValueError):
        return ""
    return raw[:MAX_MAP_BYTES].decode("utf-8", "replace")


def map_sources(text: str) -> str:
    """The original sources a source map carries (what leaks), or the raw text when it is not valid JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    contents = data.get("sourcesContent") if isinstance(data, dict) else None
    if isinstance(contents, list):
        return "\n".join(c for c in contents if isinstance(c, str))
    return text


async def check_bundles(target: AuditTarget, net: Net) -> list[Finding]:
    pages = [target.homepage] + [r.url for r in target.routes if r.kind in PAGE_KINDS]
    results = await asyncio.gather(*(net.page(url) for url in dict.fromkeys(pages)))
    scripts: list[str] = []
    for result in results:
        if result.ok:
            scripts.extend(script_urls(result, target))
    scripts = list(dict.fromkeys(scripts))[:MAX_SCRIPTS]
    fetched = await asyncio.gather(*(net.fetch(u, max_bytes=MAX_SCRIPT_BYTES) for u in scripts))
    found: dict[tuple[str, str], Finding] = {}
    maps: list[tuple[str, str]] = []  # (map url, script url)
    for url, result in zip(scripts, fetched, strict=True):
        if not (result.ok and result.final.status == 200):
            continue
        _record(found, target, url, scan_text(result.text), in_map=False)
        ref = source_map_ref(result)
        if ref is None:
            continue
        inline = inline_map(ref)
        if inline is not None:
            _record(found, target, url, scan_text(map_sources(inline)), in_map=True)
        elif same_site(urljoin(url, ref), target):
            maps.append((urljoin(url, ref), url))
    map_results = await asyncio.gather(*(net.fetch(m, max_bytes=MAX_MAP_BYTES) for m, _ in maps))
    for (map_url, _), result in zip(maps, map_results, strict=True):
        if result.ok and result.final.status == 200:
            _record(found, target, map_url, scan_text(map_sources(result.text)), in_map=True)
    return list(found.values())


def bundle_check_id(hit: Hit, in_map: bool) -> str:
    """The finding a key in a public script (or its source map) is."""
    if hit.kind == Kind.PUBLISHABLE:
        return "secrets.bundle.publishable"
    if hit.kind == Kind.RESTRICT:
        return RESTRICTED_FINDINGS[hit.provider]
    return "secrets.source_map.key" if in_map else "secrets.bundle.key"


def _record(
    found: dict[tuple[str, str], Finding], target: AuditTarget, url: str, hits: list[Hit], in_map: bool
) -> None:
    for hit in hits:
        host = urlsplit(url).hostname or target.canonical_name
        check_id = bundle_check_id(hit, in_map)
        key = (hit.provider, hit.fingerprint)
        if key in found and not (found[key].check_id.endswith("publishable") and hit.kind != Kind.PUBLISHABLE):
            continue
        found[key] = Finding(
            check_id,
            f"{host}#{hit.provider}-{hit.fingerprint}",
            {"file": url, "line": hit.line, "key": hit.redacted, "provider": hit.label},
            {
                "provider": hit.label,
                "a_provider": with_article(hit.label),
                "url": url,
                "key": hit.redacted,
                "rotation": hit.rotation,
            },
            host=host,
        )


CHECKS = (
    Check(
        "secrets.bundles",
        check_bundles,
        frozenset(
            {
                "secrets.bundle.key",
                "secrets.source_map.key",
                "secrets.bundle.publishable",
                *RESTRICTED_FINDINGS.values(),
            }
        ),
    ),
)
