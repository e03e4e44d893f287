"""Security headers and exposure: HSTS, CSP, framing, nosniff, Referrer-Policy, cookies, CORS,
leaked files and debug pages, source maps, indexable admin pages, and a header grade."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from audits.checks.declaration import Check
from audits.checks.edge import asset_urls, is_session_cookie
from audits.findings import Finding, host_of
from audits.target import AuditTarget
from launchready.models import Route
from launchready.net import FetchError, FetchResult, Hop, Net

HSTS_MIN = 15552000  # six months
EVIL_ORIGIN = "https://launch-ready-cors-probe.example"
DEBUG_SIGNATURES = (
    "Traceback (most recent call last)",
    "because you have <code>DEBUG = True</code>",
    "Werkzeug Debugger",
    "Whoops! There was an error",
    "Symfony Exception",
    "Unhandled Runtime Error",
    "ActionController::RoutingError",
    "phpinfo()",
)
_ENV_LINE = re.compile(r"^[A-Z][A-Z0-9_]{2,}=.+$", re.MULTILINE)


@dataclass
class Grade:
    score: int = 100
    deductions: list[str] = field(default_factory=list)

    def deduct(self, points: int, reason: str) -> None:
        self.score -= points
        self.deductions.append(f"{reason} (−{points})")

    @property
    def letter(self) -> str:
        for threshold, letter in ((90, "A"), (80, "B"), (70, "C"), (60, "D")):
            if self.score >= threshold:
                return letter
        return "F"


def hsts_max_age(value: str | None) -> int | None:
    if not value:
        return None
    match = re.search(r"max-age\s*=\s*\"?(\d+)", value, re.IGNORECASE)
    return int(match.group(1)) if match else 0


def frame_protected(hop: Hop) -> bool:
    csp = (hop.header("content-security-policy") or "").lower()
    return bool(hop.header("x-frame-options")) or "frame-ancestors" in csp


def cookie_problems(set_cookie: str) -> list[str]:
    """The flags a session cookie lacks (SameSite=None without Secure is reported as lacking Secure)."""
    attributes = [part.strip().lower() for part in set_cookie.split(";")[1:]]
    names = {a.split("=", 1)[0] for a in attributes}
    flags = (("Secure", "secure"), ("HttpOnly", "httponly"), ("SameSite", "samesite"))
    return [flag for flag, key in flags if key not in names]


def header_findings(target: AuditTarget, home: Hop, login: Hop | None, grade: Grade) -> list[Finding]:
    host = target.canonical_name
    findings: list[Finding] = []
    max_age = hsts_max_age(home.header("strict-transport-security"))
    if max_age is None:
        findings.append(Finding("headers.hsts_missing", host, {}, {"host": host}, host=host))
        grade.deduct(20, "no HSTS")
    elif max_age < HSTS_MIN:
        findings.append(
            Finding(
                "headers.hsts_short",
                host,
                {"hsts": home.header("strict-transport-security")},
                {"host": host, "max_age": max_age},
                host=host,
            )
        )
        grade.deduct(10, "short HSTS")
    csp = home.header("content-security-policy")
    if not csp:
        findings.append(Finding("headers.csp_missing", host, {}, {"host": host}, host=host))
        grade.deduct(25, "no Content-Security-Policy")
    elif "'unsafe-inline'" in csp and "script-src" in csp:
        grade.deduct(10, "CSP allows inline scripts")
    frame_target = login or home
    if not frame_protected(frame_target):
        findings.append(
            Finding(
                "headers.frame_missing", frame_target.url, {}, {"url": frame_target.url}, host=host_of(frame_target.url)
            )
        )
        grade.deduct(20, "no frame protection")
    if (home.header("x-content-type-options") or "").lower() != "nosniff":
        findings.append(Finding("headers.nosniff_missing", host, {}, {"host": host}, host=host))
        grade.deduct(5, "no X-Content-Type-Options")
    if not home.header("referrer-policy"):
        findings.append(Finding("headers.referrer_missing", host, {}, {"host": host}, host=host))
        grade.deduct(5, "no Referrer-Policy")
    for hop in filter(None, (home, login)):
        for cookie in hop.header_all("set-cookie"):
            name = cookie.split("=", 1)[0].strip()
            missing = cookie_problems(cookie)
            if missing and is_session_cookie(name):
                findings.append(
                    Finding(
                        "headers.cookie_insecure",
                        f"{hop.url}#{name}",
                        {"cookie": name, "missing": missing},
                        {"cookie": name, "url": hop.url, "missing": " and ".join(missing)},
                        host=host_of(hop.url),
                    )
                )
                grade.deduct(20, f"cookie {name} without {', '.join(missing)}")
    return findings


def homepage_unchecked(target: AuditTarget, home: FetchResult) -> list[Finding]:
    """The homepage did not answer: its headers, caching and exposure were never seen, which is not clean.
    An address the guard refused or a name that does not resolve is already a DNS finding that says so."""
    if home.error in (FetchError.REFUSED, FetchError.DNS):
        return []
    detail = home.final.detail or str(home.error)
    return [
        Finding(
            "headers.unchecked",
            target.homepage,
            {"error": str(home.error), "detail": detail},
            {"url": target.homepage, "detail": detail},
            host=target.canonical_name,
        )
    ]


async def check_headers(target: AuditTarget, net: Net) -> list[Finding]:
    login_route = next((r for r in target.routes if r.kind == Route.Kind.LOGIN), None)
    api_route = next((r for r in target.routes if r.kind == Route.Kind.API_HEALTH), None)
    cors_url = api_route.url if api_route else target.homepage
    home, login, cors = await asyncio.gather(
        net.page(target.homepage),
        net.page(login_route.url if login_route else target.homepage),
        net.fetch(cors_url, headers={"Origin": EVIL_ORIGIN}, max_bytes=4096),
    )
    if not home.ok:
        return homepage_unchecked(target, home)
    grade = Grade()
    findings = header_findings(target, home.final, login.final if login_route and login.ok else None, grade)
    if cors.ok:
        allowed = cors.final.header("access-control-allow-origin")
        credentials = (cors.final.header("access-control-allow-credentials") or "").lower() == "true"
        if allowed == EVIL_ORIGIN and credentials:
            findings.append(
                Finding(
                    "headers.cors_reflects",
                    cors_url,
                    {"access-control-allow-origin": allowed},
                    {"url": cors_url},
                    host=host_of(cors_url),
                )
            )
            grade.deduct(50, "CORS reflects any origin with credentials")
    findings.append(
        Finding(
            "headers.grade",
            target.canonical_name,
            {"score": grade.score, "deductions": grade.deductions},
            {
                "host": target.canonical_name,
                "grade": grade.letter,
                "score": max(grade.score, 0),
                "deductions": "; ".join(grade.deductions) or "no deductions",
            },
            host=target.canonical_name,
        )
    )
    return findings


async def check_exposure(target: AuditTarget, net: Net) -> list[Finding]:
    home = await net.page(target.homepage)
    # Probe where the site really lives (the homepage may settle on another host than the one configured).
    base = f"https://{urlsplit(home.final.url).hostname}" if home.ok else f"https://{target.canonical_name}"
    probes = {
        "env": f"{base}/.env",
        "git": f"{base}/.git/HEAD",
        "debug": f"{base}/launch-ready-debug-probe-404",
        "admin": f"{base}/admin/",
    }
    if "admin" in target.labels:
        probes["admin_host"] = f"https://{target.host('admin')}/"
    scripts = [u for u in asset_urls(home) if u.split("?")[0].endswith(".js")][:2] if home.ok else []
    names = list(probes)
    results = await asyncio.gather(
        *(net.fetch(probes[n], follow_redirects=False, max_bytes=65536) for n in names),
        *(net.fetch(u.split("?")[0] + ".map", follow_redirects=False, max_bytes=4096) for u in scripts),
    )
    by_name = dict(zip(names, results[: len(names)], strict=True))
    findings: list[Finding] = []
    env = by_name["env"]
    if env.ok and env.final.status == 200 and len(_ENV_LINE.findall(env.text)) >= 2:
        keys = [line.split("=", 1)[0] for line in _ENV_LINE.findall(env.text)][:10]
        findings.append(
            Finding(
                "exposure.env_file",
                probes["env"],
                {"variables": keys},
                {"url": probes["env"]},
                host=host_of(probes["env"]),
            )
        )
    git = by_name["git"]
    if git.ok and git.final.status == 200 and git.text.startswith("ref: "):
        findings.append(
            Finding(
                "exposure.git",
                probes["git"],
                {"HEAD": git.text[:60]},
                {"url": probes["git"]},
                host=host_of(probes["git"]),
            )
        )
    debug = by_name["debug"]
    signature = next((s for s in DEBUG_SIGNATURES if s in debug.text), None) if debug.ok else None
    if signature:
        findings.append(
            Finding(
                "exposure.debug_page",
                probes["debug"],
                {"signature": signature},
                {"url": probes["debug"]},
                host=host_of(probes["debug"]),
            )
        )
    for url, result in zip(scripts, results[len(names) :], strict=True):
        if result.ok and result.final.status == 200 and '"mappings"' in result.text:
            findings.append(
                Finding("exposure.source_map", url + ".map", {}, {"url": url.split("?")[0] + ".map"}, host=host_of(url))
            )
            break
    for key in ("admin", "admin_host"):
        admin = by_name.get(key)
        if (
            admin is not None
            and admin.ok
            and admin.final.status == 200
            and "noindex" not in (admin.final.header("x-robots-tag") or "").lower()
            and "noindex" not in admin.text.lower()
        ):
            findings.append(
                Finding("exposure.admin_indexable", probes[key], {}, {"url": probes[key]}, host=host_of(probes[key]))
            )
    return findings


CHECKS = (
    Check(
        "headers",
        check_headers,
        frozenset(
            {
                "headers.unchecked",
                "headers.hsts_missing",
                "headers.hsts_short",
                "headers.csp_missing",
                "headers.frame_missing",
                "headers.nosniff_missing",
                "headers.referrer_missing",
                "headers.cookie_insecure",
                "headers.cors_reflects",
                "headers.grade",
            }
        ),
    ),
    Check(
        "exposure",
        check_exposure,
        frozenset(
            {
                "exposure.env_file",
                "exposure.git",
                "exposure.debug_page",
                "exposure.source_map",
                "exposure.admin_indexable",
            }
        ),
    ),
)
