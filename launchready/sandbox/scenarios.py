"""The library of sandbox domains: one healthy, launch-ready domain and, for every check, a domain that
trips it. Each is the healthy domain with one thing turned wrong, so a test that trips a check and one
that does not differ in exactly that one thing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from launchready.sandbox.assistants import assistant_sites
from launchready.sandbox.ca import CertKind
from launchready.sandbox.dmarc_reports import REPORT_MAIL_DOMAIN, add_report_sources
from launchready.sandbox.dns_server import ZoneData
from launchready.sandbox.hostile_text import ASCII, COOKIE_NAME, HOSTILE_TEXT, IN_URL, hostile_sites
from launchready.sandbox.mail_sender import add_sender_records, sender_keys
from launchready.sandbox.saas_app import SAAS_APPS, Flaw, SaasApp
from launchready.sandbox.web import Page, Request, Site

HEALTHY = "launch-ready.test"
CSP = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'"
GOOD_HEADERS = [
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
]
CDN = [("Server", "cloudflare"), ("CF-Ray", "8c1a2b3c4d5e6f70-AMS")]


@cache
def dkim_key(bits: int) -> str:
    """A DKIM public key of this size, base64 DER. Under 1024 bits cryptography will not generate a key,
    so a public key of that size is made from its numbers (only its size is ever looked at)."""
    if bits < 1024:
        public = rsa.RSAPublicNumbers(65537, (1 << (bits - 1)) | 0x1F3).public_key()
    else:
        public = rsa.generate_private_key(65537, bits).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@dataclass
class Knobs:
    """What to turn wrong on an otherwise healthy domain (every default is the healthy choice)."""

    cert: CertKind = CertKind.VALID
    tls10: bool = False
    tls_garbage: bool = False
    http_redirect: int | None = 301
    canonical: str = "ok"  # ok, both_serve, wrong, temporary, drop_path, loop, long_chain, too_many
    drop_headers: set[str] = field(default_factory=set)
    hsts: str = "max-age=63072000; includeSubDomains"
    cookie: str = "sessionid=abc123; Path=/; Secure; HttpOnly; SameSite=Lax"
    cors_reflect: bool = False
    env_exposed: bool = False
    git_exposed: bool = False
    debug_page: bool = False
    source_map: bool = False
    bundle_leak: str = ""  # a line of the app's JavaScript bundle (a key pasted into front-end code)
    map_leak: str = ""  # a line of the original source that the bundle's source map carries
    admin_indexable: bool = False
    cdn: bool = True
    origin_exposed: bool = False
    static_cache: str = "public, max-age=31536000, immutable"
    login_cache: str = "private, no-store"
    compress: bool = True
    login_status: int = 200
    login_keyword: bool = True
    login_delay: float = 0.0
    health_unreachable: bool = False
    slow_samples: bool = False
    webhook_redirect: bool = False
    webhook_status: int = 400  # what the webhook answers an unsigned POST with (400: refused, as it should)
    webhook_delay: float = 0.0  # seconds the webhook takes to answer a POST
    mixed_content: bool = False
    missing_app_host: bool = False
    servfail_host: bool = False
    dangling_cname: bool = False
    cname_loop: bool = False
    single_ns: bool = False
    lame_ns: bool = False
    txt_servfail: bool = False  # the apex's TXT questions fail (SPF cannot be read)
    dmarc_servfail: bool = False
    ipv6_dnssec: bool = False  # www has an AAAA record and the apex a DNSKEY
    caa: str | None = '0 issue "sandbox.launchready.test"'
    ttl: int = 300
    mx: bool = True
    spf: list[str] | None = None  # None: the healthy record
    dkim: str | None = "good"  # good, missing, revoked, testing, weak, 1024, sha1, broken, servfail
    dmarc: list[str] | None = None
    rua_external: str | None = None
    extra: list[tuple[str, str, str]] = field(default_factory=list)  # more records: (name, type, value)
    latency: float = 0.0
    routes_garbage: bool = False  # every route's path answers with bytes that are not HTTP
    exists: bool = True  # False: the domain is not in DNS at all (misspelt, never registered)
    caa_servfail: bool = False  # the apex's CAA questions fail
    ns_down: bool = False  # every name of the domain answers SERVFAIL, as when its nameservers are unreachable


class World:
    """Zone data and web sites under construction, with loopback addresses handed out in order."""

    def __init__(self) -> None:
        self.zone = ZoneData()
        self.sites: list[Site] = []
        self._next = 2

    def ip(self) -> str:
        n = self._next
        self._next += 1
        return f"127.0.{n // 250 + 1}.{n % 250 + 2}"

    def site(self, hosts: list[str], ttl: int = 300, **kwargs: object) -> Site:
        site = Site(hosts=hosts, ip=self.ip(), **kwargs)  # type: ignore[arg-type]
        for host in hosts:
            self.zone.add(host, "A", site.ip, ttl)
        self.sites.append(site)
        return site


def _page(body: str, headers: list[tuple[str, str]], compress: bool = True, **kw: object) -> Page:
    return Page(body=body, headers=[("Content-Type", "text/html; charset=utf-8"), *headers], compress=compress, **kw)  # type: ignore[arg-type]


def build_domain(world: World, apex: str, knobs: Knobs | None = None) -> None:
    """Add one domain (apex, www, app, api and its mail setup) to the world."""
    k = knobs or Knobs()
    if not k.exists:
        return
    www = f"www.{apex}"
    headers = [h for h in GOOD_HEADERS if h[0] not in k.drop_headers]
    headers = [(n, k.hsts) if n == "Strict-Transport-Security" else (n, v) for n, v in headers]
    edge = CDN if k.cdn else []
    script = "/static/app.3f9a1c.js"
    extra = '<script src="http://cdn.legacy-widgets.test/widget.js"></script>' if k.mixed_content else ""
    home = (
        f'<!doctype html><html><head><title>{apex}</title><link rel="stylesheet" href="/static/app.3f9a1c.css">'
        f'<script src="{script}" defer></script>{extra}</head><body><h1>Welcome to {apex}</h1>'
        + "<p>Launch-ready product page.</p>" * 40
        + "</body></html>"
    )
    pages: dict[str, Page] = {
        "/": _page(home, headers, k.compress),
        "/static/*": Page(
            body="console.log('app');" * 20,
            compress=k.compress,
            headers=[("Content-Type", "application/javascript"), ("Cache-Control", k.static_cache), *headers],
        ),
        "*": _page("<h1>Not found</h1>", headers, status=404),
    }
    if k.bundle_leak or k.map_leak:
        pages[script] = _bundle(script, k, headers)
        if k.map_leak:
            pages[script + ".map"] = Page(
                body=json.dumps(
                    {"version": 3, "sources": ["src/api.ts"], "sourcesContent": [k.map_leak], "mappings": "AAAA"}
                ),
                headers=[("Content-Type", "application/json")],
            )
    if k.source_map:
        pages[script + ".map"] = Page(
            body='{"version":3,"sources":["app.ts"],"mappings":"AAAA"}', headers=[("Content-Type", "application/json")]
        )
    if k.env_exposed:
        pages["/.env"] = Page(
            body="DATABASE_URL=postgres://app:hunter2@db/app\nSTRIPE_SECRET_KEY=sk_test_x\n",
            headers=[("Content-Type", "text/plain")],
        )
    if k.git_exposed:
        pages["/.git/HEAD"] = Page(body="ref: refs/heads/main\n", headers=[("Content-Type", "text/plain")])
    if k.debug_page:
        pages["*"] = _page(
            "<h1>Page not found (404)</h1><p>You're seeing this error because you have "
            "<code>DEBUG = True</code> in your Django settings file.</p>",
            headers,
            status=404,
        )
    if k.admin_indexable:
        pages["/admin/"] = _page("<h1>Admin sign in</h1>", headers)
    if k.routes_garbage:
        pages["/"] = Page(garbage=True)
    canonical_site_pages = pages
    www_site = world.site(
        [www],
        ttl=k.ttl,
        pages=canonical_site_pages,
        cert=k.cert,
        tls10=k.tls10,
        tls_garbage=k.tls_garbage,
        http_redirect=k.http_redirect,
        latency=k.latency,
        headers=edge,
    )
    apex_pages: dict[str, Page]
    if k.canonical == "both_serve":
        apex_pages = pages
    elif k.canonical == "wrong":
        apex_pages = pages
        www_site.pages = {"*": Page(status=301, location=f"https://{apex}/", headers=CDN)}
    elif k.canonical == "loop":
        apex_pages = {"*": Page(status=301, location=f"https://{www}/")}
        www_site.pages = {"*": Page(status=301, location=f"https://{apex}/")}
    elif k.canonical == "long_chain":
        apex_pages = {
            "*": Page(status=301, location=f"https://{apex}/step-1"),
            "/step-1": Page(status=301, location=f"https://{apex}/step-2"),
            "/step-2": Page(status=301, location=f"https://{www}/"),
        }
    elif k.canonical == "too_many":
        apex_pages = {"*": Page(status=301, location=f"https://{apex}/hop-0")}
        apex_pages |= {f"/hop-{i}": Page(status=301, location=f"https://{apex}/hop-{i + 1}") for i in range(30)}
    elif k.canonical == "temporary":
        apex_pages = {"*": Page(status=302, location=f"https://{www}/")}
    elif k.canonical == "drop_path":
        apex_pages = {"*": Page(status=301, location=f"https://{www}/")}
    else:
        apex_pages = {"*": Page(status=301, location=f"https://{www}" + "{path}")}
    world.site(
        [apex],
        ttl=k.ttl,
        pages=apex_pages,
        cert=k.cert,
        tls10=k.tls10,
        http_redirect=k.http_redirect,
        latency=k.latency,
        headers=edge,
    )
    _app_and_api(world, apex, k, headers, edge)
    _dns_extras(world, apex, k)
    _mail(world, apex, k)


def _bundle(script: str, k: Knobs, headers: list[tuple[str, str]]) -> Page:
    body = "console.log('app');" * 20 + k.bundle_leak
    if k.map_leak:
        body += f"\n//# sourceMappingURL={script.rsplit('/', 1)[1]}.map\n"
    return Page(
        body=body,
        compress=k.compress,
        headers=[("Content-Type", "application/javascript"), ("Cache-Control", k.static_cache), *headers],
    )


# Keys in their providers' formats, made up (never live), for the scenarios that leak one.
FAKE_STRIPE_SECRET = "sk_live_" + "51NzQ8rLk2Vb7Xc4Tm9Wq3Ea6Ys1Dh0Fj5Gu8Ip2Ko7Lr4Mt"
FAKE_STRIPE_PUBLISHABLE = "pk_live_" + "51NzQ8rLk2Vb7Xc4Tm9Wq3Ea6Ys1Dh0Fj5Gu8Ip2Ko7Lr4Mt"
FAKE_AWS_KEY_ID = "AKIA" + "Q3Z7XK2M9WPL4TRB"
FAKE_GOOGLE_KEY = "AIza" + "SyB7kQ2mZ9xV4nL8pR3tW6yH1cF5dJ0gK2s"
FAKE_FIREBASE_KEY = "AIza" + "SyD3fH8kL1mN6pQ9rS2tU5vW8xY1zA4bC7e"
FAKE_OPENAI_KEY = "sk-proj-" + "Vq7Lr2Xk9Mt4Wn8Pz3Hc6Js1Db5Fg0Ya7Ue2Io9Kl4Nb8Rq3Tm6Wx1Ze5Cv0Bs7Gh"


def _app_and_api(
    world: World, apex: str, k: Knobs, headers: list[tuple[str, str]], edge: list[tuple[str, str]]
) -> None:
    app, api = f"app.{apex}", f"api.{apex}"
    login_headers = [*headers, ("Cache-Control", k.login_cache), ("Set-Cookie", k.cookie)]
    if "X-Frame-Options" in k.drop_headers:
        login_headers = [h for h in login_headers if h[0] != "X-Frame-Options"]
    login_body = "<h1>Sign in</h1><form method=post><input name=email></form>" if k.login_keyword else "<h1>Oops</h1>"
    app_pages = {
        "/login": _page(login_body, login_headers, status=k.login_status, delay=k.login_delay),
        "/dashboard": Page(status=302, location=f"https://{app}/login", headers=headers),
        "*": _page("<h1>Not found</h1>", headers, status=404),
    }
    if k.routes_garbage:
        app_pages["/login"] = app_pages["/dashboard"] = Page(garbage=True)
    if not k.missing_app_host and not k.servfail_host:
        world.site(
            [app],
            ttl=k.ttl,
            pages=app_pages,
            cert=k.cert if k.cert != CertKind.WRONG_NAME else CertKind.VALID,
            latency=k.latency,
            headers=edge,
        )
    elif k.servfail_host:
        world.zone.behave(app, servfail=True)
    cors = (
        [("Access-Control-Allow-Origin", "{origin}"), ("Access-Control-Allow-Credentials", "true")]
        if k.cors_reflect
        else []
    )
    health = Page(
        body='{"status": "ok"}',
        headers=[("Content-Type", "application/json"), *cors],
        delay=0.6 if k.slow_samples else 0.0,
    )
    api_pages = {
        "/health": health,
        "/webhooks/stripe": Page(status=301, location=f"https://{api}/webhooks/stripe/")
        if k.webhook_redirect
        else Page(respond=_webhook(k.webhook_status, k.webhook_delay)),
        "*": Page(status=404, body="{}", headers=[("Content-Type", "application/json")]),
    }
    if k.health_unreachable or k.routes_garbage:
        api_pages["/health"] = Page(garbage=True)
    if k.routes_garbage:
        api_pages["/webhooks/stripe"] = Page(garbage=True)
    # With the origin exposed, the API is served straight from the app server: no CDN in front.
    world.site(
        [api],
        ttl=k.ttl,
        pages=api_pages,
        cert=CertKind.VALID,
        latency=k.latency,
        headers=[] if k.origin_exposed else edge,
    )


def _webhook(status: int = 400, delay: float = 0.0) -> Callable[[str, bytes], Page]:
    """A webhook that answers an unsigned POST with `status` after `delay` seconds. As it should be: POST
    only, and a post without a signature refused with 400, at once; a 404 or 405 answers every method."""
    json_type = [("Content-Type", "application/json")]
    answer = {400: '{"error": "missing signature"}', 200: '{"received": true}'}.get(status, '{"error": "failed"}')

    def respond(method: str, body: bytes) -> Page:
        if status in (404, 405):
            return Page(status=status, body='{"error": "not here"}', headers=[*json_type, ("Allow", "GET")])
        if method != "POST":
            text = [("Content-Type", "text/plain"), ("Allow", "POST")]
            return Page(status=405, body="Method Not Allowed", headers=text)
        return Page(status=status, body=answer, headers=json_type, delay=delay)

    return respond


def _dns_extras(world: World, apex: str, k: Knobs) -> None:
    z = world.zone
    z.add(apex, "NS", f"ns1.{apex}")
    z.add(f"ns1.{apex}", "A", "127.0.0.53")
    if not k.single_ns:
        z.add(apex, "NS", f"ns2.{apex}")
        # A lame nameserver: listed, but nothing answers at its address.
        z.add(f"ns2.{apex}", "A", "127.0.0.59" if k.lame_ns else "127.0.0.54")
    if k.caa:
        z.add(apex, "CAA", k.caa)
    if k.dangling_cname:
        z.add(f"shop.{apex}", "CNAME", f"{apex.split('.')[0]}-old.trydiscourse.com")
    if k.cname_loop:
        z.add(f"portal.{apex}", "CNAME", f"portal-b.{apex}")
        z.add(f"portal-b.{apex}", "CNAME", f"portal.{apex}")
    if k.ipv6_dnssec:
        z.add(f"www.{apex}", "AAAA", "::1")
        z.add(apex, "DNSKEY", "257 3 13 " + base64.b64encode(bytes(range(64))).decode())
    if k.txt_servfail:
        z.behave(apex, servfail=True, rdtypes=("TXT",))
    if k.dmarc_servfail:
        z.behave(f"_dmarc.{apex}", servfail=True)
    if k.caa_servfail:
        z.behave(apex, servfail=True, rdtypes=("CAA",))
    if k.ns_down:
        z.behave(apex, servfail=True, subtree=True)
    for name, rtype, value in k.extra:
        z.add(name, rtype, value)


def _mail(world: World, apex: str, k: Knobs) -> None:
    z = world.zone
    if k.mx:
        z.add(apex, "MX", "1 smtp.google.com")
    for record in k.spf if k.spf is not None else ["v=spf1 include:_spf.google.com ~all"]:
        z.add(apex, "TXT", record)
    z.add(apex, "TXT", "google-site-verification=launch-ready-sandbox")
    selector = f"google._domainkey.{apex}"
    records = {
        "good": lambda: f"v=DKIM1; k=rsa; p={dkim_key(2048)}",
        "revoked": lambda: "v=DKIM1; k=rsa; p=",
        "testing": lambda: f"v=DKIM1; k=rsa; t=y; p={dkim_key(2048)}",
        "weak": lambda: f"v=DKIM1; k=rsa; p={dkim_key(512)}",
        "1024": lambda: f"v=DKIM1; k=rsa; p={dkim_key(1024)}",
        "sha1": lambda: f"v=DKIM1; k=rsa; h=sha1; p={dkim_key(2048)}",
        "broken": lambda: "v=DKIM1; k=rsa; p=not*base64!",
    }
    if k.dkim in records:
        z.add(selector, "TXT", records[k.dkim]())
    elif k.dkim == "servfail":
        z.behave(selector, servfail=True)
    dmarc = k.dmarc if k.dmarc is not None else [f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{apex}"]
    for record in dmarc:
        z.add(f"_dmarc.{apex}", "TXT", record)
    z.add(f"_mta-sts.{apex}", "TXT", "v=STSv1; id=20260101")
    z.add(f"_smtp._tls.{apex}", "TXT", f"v=TLSRPTv1; rua=mailto:tls@{apex}")


def shared_world() -> World:
    """The mail providers' own records every domain's SPF refers to, and other shared names."""
    world = World()
    z = world.zone
    z.add("_spf.google.com", "TXT", "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:10::/48 ~all")
    z.add("sendgrid.net", "TXT", "v=spf1 ip4:203.0.113.0/24 -all")
    z.add("spf.mtasv.net", "TXT", "v=spf1 ip4:192.0.2.128/25 -all")
    z.add("amazonses.com", "TXT", "v=spf1 ip4:192.0.2.0/25 -all")
    z.add("smtp.google.com", "A", "198.51.100.25")
    return world


# check id -> (domain, knobs): the domain that trips the check.
TRIPS: dict[str, tuple[str, Knobs]] = {
    "tls.expired": ("expired-cert.test", Knobs(cert=CertKind.EXPIRED)),
    "tls.not_yet_valid": ("future-cert.test", Knobs(cert=CertKind.NOT_YET_VALID)),
    "tls.expiring_soon": ("expiring-cert.test", Knobs(cert=CertKind.EXPIRING_SOON)),
    "tls.hostname_mismatch": ("wrong-name.test", Knobs(cert=CertKind.WRONG_NAME)),
    "tls.untrusted": ("self-signed.test", Knobs(cert=CertKind.SELF_SIGNED)),
    "tls.chain_incomplete": ("short-chain.test", Knobs(cert=CertKind.MISSING_INTERMEDIATE)),
    "tls.chain_strict": ("root-no-aki.test", Knobs(cert=CertKind.ROOT_ISSUED_NO_AKI)),
    "tls.weak_key": ("weak-key.test", Knobs(cert=CertKind.WEAK_KEY)),
    "tls.old_protocol": ("old-tls.test", Knobs(tls10=True)),
    "tls.unreachable": ("tls-garbage.test", Knobs(tls_garbage=True)),
    "redirect.http_not_https": ("no-https-redirect.test", Knobs(http_redirect=None)),
    "redirect.loop": ("redirect-loop.test", Knobs(canonical="loop")),
    "redirect.long_chain": ("long-chain.test", Knobs(canonical="long_chain")),
    "redirect.too_many": ("thirty-redirects.test", Knobs(canonical="too_many")),
    "redirect.both_hosts_serve": ("both-hosts.test", Knobs(canonical="both_serve")),
    "redirect.wrong_canonical": ("wrong-canonical.test", Knobs(canonical="wrong")),
    "redirect.drops_path": ("drops-path.test", Knobs(canonical="drop_path")),
    "redirect.temporary": ("temporary-redirect.test", Knobs(canonical="temporary")),
    "webhook.redirects": ("webhook-redirect.test", Knobs(webhook_redirect=True)),
    "redirect.mixed_content": ("mixed-content.test", Knobs(mixed_content=True)),
    "route.unexpected_status": ("login-500.test", Knobs(login_status=500)),
    "route.keyword_missing": ("login-keyword.test", Knobs(login_keyword=False)),
    "route.unreachable": ("health-garbage.test", Knobs(health_unreachable=True)),
    "route.slow_ttfb": ("slow-login.test", Knobs(login_delay=2.2)),
    "route.slow_p95": ("slow-api.test", Knobs(slow_samples=True)),
    "edge.no_cdn": ("no-cdn.test", Knobs(cdn=False)),
    "edge.origin_exposed": ("origin-exposed.test", Knobs(origin_exposed=True)),
    "edge.static_no_cache": ("static-no-cache.test", Knobs(static_cache="no-cache")),
    "edge.shared_cache_private": ("shared-cache.test", Knobs(login_cache="public, max-age=600")),
    "edge.no_compression": ("no-gzip.test", Knobs(compress=False)),
    "headers.hsts_missing": ("no-hsts.test", Knobs(drop_headers={"Strict-Transport-Security"})),
    "headers.hsts_short": ("short-hsts.test", Knobs(hsts="max-age=300")),
    "headers.csp_missing": ("no-csp.test", Knobs(drop_headers={"Content-Security-Policy"})),
    "headers.frame_missing": ("frameable.test", Knobs(drop_headers={"X-Frame-Options", "Content-Security-Policy"})),
    "headers.nosniff_missing": ("no-nosniff.test", Knobs(drop_headers={"X-Content-Type-Options"})),
    "headers.referrer_missing": ("no-referrer.test", Knobs(drop_headers={"Referrer-Policy"})),
    "headers.cookie_insecure": ("insecure-cookie.test", Knobs(cookie="sessionid=abc123; Path=/")),
    "headers.cors_reflects": ("cors-reflect.test", Knobs(cors_reflect=True)),
    "exposure.env_file": ("env-exposed.test", Knobs(env_exposed=True)),
    "exposure.git": ("git-exposed.test", Knobs(git_exposed=True)),
    "exposure.debug_page": ("debug-page.test", Knobs(debug_page=True)),
    "exposure.source_map": ("source-map.test", Knobs(source_map=True)),
    "exposure.admin_indexable": ("admin-indexable.test", Knobs(admin_indexable=True)),
    "secrets.bundle.key": (
        "bundle-key.test",
        Knobs(bundle_leak=f'var stripe=require("stripe")("{FAKE_STRIPE_SECRET}");'),
    ),
    "secrets.source_map.key": (
        "map-key.test",
        Knobs(map_leak=f'const s3 = new S3Client({{ credentials: {{ accessKeyId: "{FAKE_AWS_KEY_ID}" }} }});'),
    ),
    "secrets.bundle.google_key": (
        "google-key.test",
        Knobs(bundle_leak=f'const map=new google.maps.Map(el,{{center:c}});loadScript("/js?key={FAKE_GOOGLE_KEY}");'),
    ),
    "secrets.bundle.firebase_key": (
        "firebase-key.test",
        Knobs(
            bundle_leak=f'const app=initializeApp({{apiKey:"{FAKE_FIREBASE_KEY}",authDomain:"acme-web.firebaseapp.com",'
            'projectId:"acme-web",appId:"1:123456789012:web:0a1b2c3d4e5f"});'
        ),
    ),
    "secrets.bundle.publishable": (
        "publishable-key.test",
        Knobs(bundle_leak=f'var stripePromise=loadStripe("{FAKE_STRIPE_PUBLISHABLE}");'),
    ),
    "dns.host.missing": ("missing-app.test", Knobs(missing_app_host=True)),
    "dns.host.failure": ("servfail-app.test", Knobs(servfail_host=True)),
    "dns.cname.dangling": ("dangling.test", Knobs(dangling_cname=True)),
    "dns.cname.loop": ("cname-loop.test", Knobs(cname_loop=True)),
    "dns.ns.too_few": ("single-ns.test", Knobs(single_ns=True)),
    "dns.domain.missing": ("nothing-here.test", Knobs(exists=False)),
    "dns.domain.unreachable": ("dead-ns.test", Knobs(ns_down=True)),
    "audit.no_route_reached": ("routes-garbage.test", Knobs(routes_garbage=True)),
    "headers.unchecked": ("routes-garbage.test", Knobs(routes_garbage=True)),
    "dns.ns.inconsistent": ("lame-ns.test", Knobs(lame_ns=True)),
    "dns.caa.missing": ("no-caa.test", Knobs(caa=None)),
    "dns.caa.blocks_issuer": ("caa-blocks.test", Knobs(caa='0 issue "letsencrypt.org"')),
    "dns.caa.dns_failure": ("caa-servfail.test", Knobs(caa_servfail=True)),
    "dns.ttl.long": ("long-ttl.test", Knobs(ttl=86400)),
    "email.mx.missing": ("no-mx.test", Knobs(mx=False)),
    "email.spf.missing": ("no-spf.test", Knobs(spf=[])),
    "email.spf.multiple": ("two-spf.test", Knobs(spf=["v=spf1 include:_spf.google.com ~all", "v=spf1 -all"])),
    "email.spf.syntax": ("spf-syntax.test", Knobs(spf=["v=spf1 include:_spf.google.com ipv4:1.2.3.4 ~all"])),
    "email.spf.too_many_lookups": (
        "spf-lookups.test",
        Knobs(
            spf=["v=spf1 " + " ".join(f"a:h{i}.spf-lookups.test" for i in range(11)) + " include:_spf.google.com ~all"],
            extra=[(f"h{i}.spf-lookups.test", "A", "192.0.2.10") for i in range(11)],
        ),
    ),
    "email.spf.too_many_void": (
        "spf-void.test",
        Knobs(
            spf=[
                "v=spf1 include:_spf.google.com a:gone1.spf-void.test a:gone2.spf-void.test a:gone3.spf-void.test ~all"
            ]
        ),
    ),
    "email.spf.permissive_all": ("spf-plus-all.test", Knobs(spf=["v=spf1 include:_spf.google.com +all"])),
    "email.spf.provider_missing": ("spf-provider.test", Knobs(spf=["v=spf1 ip4:192.0.2.1 ~all"])),
    "email.spf.dns_failure": ("spf-servfail.test", Knobs(txt_servfail=True)),
    "email.dmarc.dns_failure": ("dmarc-servfail.test", Knobs(dmarc_servfail=True)),
    "email.dkim.missing": ("no-dkim.test", Knobs(dkim=None)),
    "email.dkim.revoked": ("dkim-revoked.test", Knobs(dkim="revoked")),
    "email.dkim.testing": ("dkim-testing.test", Knobs(dkim="testing")),
    "email.dkim.weak_key": ("dkim-weak.test", Knobs(dkim="weak")),
    "email.dkim.key_1024": ("dkim-1024.test", Knobs(dkim="1024")),
    "email.dkim.sha1": ("dkim-sha1.test", Knobs(dkim="sha1")),
    "email.dkim.invalid": ("dkim-broken.test", Knobs(dkim="broken")),
    "email.dkim.dns_failure": ("dkim-servfail.test", Knobs(dkim="servfail")),
    "email.dmarc.missing": ("no-dmarc.test", Knobs(dmarc=[])),
    "email.dmarc.multiple": (
        "two-dmarc.test",
        Knobs(dmarc=["v=DMARC1; p=none; rua=mailto:a@two-dmarc.test", "v=DMARC1; p=reject"]),
    ),
    "email.dmarc.syntax": ("dmarc-syntax.test", Knobs(dmarc=["v=DMARC1; p=bogus"])),
    "email.dmarc.none_no_reports": ("dmarc-none.test", Knobs(dmarc=["v=DMARC1; p=none"])),
    "email.dmarc.none_with_reports": (
        "dmarc-monitor.test",
        Knobs(dmarc=["v=DMARC1; p=none; rua=mailto:d@dmarc-monitor.test"]),
    ),
    "email.dmarc.rua_unauthorised": (
        "dmarc-rua.test",
        Knobs(dmarc=["v=DMARC1; p=quarantine; rua=mailto:r@reports.example-dmarc.test"]),
    ),
    "email.dmarc.removed_tags": (
        "dmarc-pct.test",
        Knobs(dmarc=["v=DMARC1; p=quarantine; pct=50; rua=mailto:d@dmarc-pct.test"]),
    ),
    "webhook.accepts_unsigned": ("webhook-unsigned.test", Knobs(webhook_status=200)),
    "webhook.fails_unsigned": ("webhook-500.test", Knobs(webhook_status=500)),
    "webhook.not_found": ("webhook-missing.test", Knobs(webhook_status=404)),
    "webhook.post_refused": ("webhook-get-only.test", Knobs(webhook_status=405)),
    "webhook.slow": ("webhook-slow.test", Knobs(webhook_delay=2.2)),
}

HOSTILE = "hostile.test"


def build_hostile(world: World, apex: str = HOSTILE) -> None:
    """A domain whose every server misbehaves: the audit must end in findings, in time, without crashing."""
    z = world.zone
    www, app, api = f"www.{apex}", f"app.{apex}", f"api.{apex}"
    world.site(
        [apex],
        pages={"*": Page(status=301, location=f"https://{apex}/hop-0")}
        | {f"/hop-{i}": Page(status=301, location=f"https://{apex}/hop-{i + 1}") for i in range(30)},
    )
    world.site(
        [www],
        pages={
            "/": Page(hang=True),
            "/static/*": Page(size=100_000_000, headers=[("Content-Type", "text/css")]),
            "*": Page(drip=1.0, body="x" * 60),
        },
    )
    world.site([app], pages={"/login": Page(bad_header=True), "*": Page(garbage=True)})
    world.site([api], tls_garbage=True)
    z.add(apex, "TXT", "v=spf1 " + " ".join(f"include:s{i}.{apex}" for i in range(50)) + " -all")
    for i in range(50):
        z.add(f"s{i}.{apex}", "TXT", f"v=spf1 include:s{(i + 1) % 50}.{apex} -all")  # and they loop
    z.add(apex, "TXT", "x" * 4096)
    z.add(f"_dmarc.{apex}", "TXT", "v=DMARC1; p=" + "q" * 3000)
    z.add(f"portal.{apex}", "CNAME", f"portal-b.{apex}")
    z.add(f"portal-b.{apex}", "CNAME", f"portal.{apex}")
    z.behave(f"google._domainkey.{apex}", timeout=True)
    z.behave(apex, rdtypes=("MX", "CAA"), servfail=True)


def build_hostile_text(world: World, apex: str = HOSTILE_TEXT) -> None:
    """A domain whose every text the audit reads is hostile: TXT records (SPF, DMARC, DKIM, others), CAA,
    headers, cookies, redirect targets, page titles, the certificate's names and its assistant's replies.
    Whatever the product shows of it must stay text."""
    knobs = Knobs(
        spf=[f"v=spf1 include:_spf.google.com {ASCII} ~all"],
        dmarc=[f"v=DMARC1; p=none; rua=mailto:{IN_URL}@{apex}; {ASCII}"],
        hsts=f"max-age=60; {ASCII}",
        cookie=f"{COOKIE_NAME}=1; Path=/; {ASCII}",
        cdn=False,
        canonical="both_serve",
        login_status=500,
        dkim="broken",
        caa=f'0 issue "{ASCII.replace(chr(34), "")}"',
        extra=[(apex, "TXT", ASCII), (f"www.{apex}", "TXT", ASCII)],
    )
    build_domain(world, apex, knobs)
    hostile_headers = [("Server", ASCII), ("X-Powered-By", ASCII), ("Content-Security-Policy", ASCII)]
    for site in world.sites:
        if not any(host == apex or host.endswith(f".{apex}") for host in site.hosts):
            continue
        site.cert_org = ASCII
        if site.hosts == [apex]:
            site.cert = CertKind.SELF_SIGNED  # its issuer is then the hostile organisation
        site.headers = [*site.headers, *hostile_headers]
        for page in site.pages.values():
            if isinstance(page.body, str) and "<title>" in page.body:
                page.body = page.body.replace(f"<title>{apex}</title>", f"<title>{ASCII}</title>")
        site.pages["/go"] = Page(status=302, location=f"https://www.{apex}/{IN_URL}")
    chat = hostile_sites(world.ip())
    for site in chat:
        for host in site.hosts:
            world.zone.add(host, "A", site.ip)
        world.sites.append(site)


# Hosts that only the shell audit's discovery can find (no client record lists them): a forgotten admin.
# alias of a deleted Discourse site (a takeover), and a portal. alias of a name that no longer exists.
FORGOTTEN_ALIASES = "forgotten-alias.test"
FORGOTTEN_ALIAS_KNOBS = Knobs(
    extra=[
        (f"admin.{FORGOTTEN_ALIASES}", "CNAME", "forgotten-alias-old.trydiscourse.com"),
        (f"portal.{FORGOTTEN_ALIASES}", "CNAME", "gone.retired-vendor.test"),
    ]
)

# Certificates the chain diagnosis must tell apart (besides the tripping domains above): a leaf signed by
# the trusted root itself (nothing missing), one signed by a private root sent along with it, and one
# with a complete, trusted chain that is issued for clients rather than servers.
TLS_CASES = {
    "root-issued.test": Knobs(cert=CertKind.ROOT_ISSUED),
    "private-ca.test": Knobs(cert=CertKind.PRIVATE_CA),
    "client-cert.test": Knobs(cert=CertKind.CLIENT_ONLY),
}

# Domains on which the fact-only checks (IPv6, DNSSEC) report nothing.
FACTS_PRESENT = "ipv6-dnssec.test"


# The scenarios whose problem sits on a host of its own.
EXTRA_LABELS = {"dns.cname.dangling": ["shop"], "dns.cname.loop": ["portal"]}


# The demo workspace's domains: realistic, each with a few problems to work down.
DEMO: dict[str, Knobs] = {
    # Nearly ready: a few medium findings to work down.
    "brightpath.test": Knobs(
        drop_headers={"Content-Security-Policy"},
        dmarc=["v=DMARC1; p=none"],
        static_cache="no-cache",
        spf=["v=spf1 include:_spf.google.com include:spf.mtasv.net ~all"],
        bundle_leak=f'var stripePromise=loadStripe("{FAKE_STRIPE_PUBLISHABLE}");',
    ),
    # Mid-sprint: a leaked .env file, a certificate about to expire, and a payment webhook that takes any event.
    "studiokit.test": Knobs(
        cert=CertKind.EXPIRING_SOON,
        cookie="session=abc; Path=/",
        env_exposed=True,
        spf=["v=spf1 include:sendgrid.net ?all"],
        webhook_status=200,
    ),
    # Just starting: the edge and email are not set up yet, login is failing, and the chat widget calls
    # OpenAI from the browser with the company's key.
    "askmira.test": Knobs(
        bundle_leak=f'const openai=new OpenAI({{apiKey:"{FAKE_OPENAI_KEY}",dangerouslyAllowBrowser:!0}});',
        http_redirect=None,
        canonical="both_serve",
        dkim=None,
        dmarc=[],
        cdn=False,
        login_status=502,
        spf=["v=spf1 include:amazonses.com ~all"],
    ),
}


def build_world(
    domains: dict[str, Knobs] | None = None,
    *,
    latency: float = 0.0,
    dns_latency: float = 0.0,
    mail_keys: Path | None = None,
) -> World:
    """The shared mail records plus the given domains (by default the healthy one, every tripping one, the demo
    and the mail sender's domains, whose DKIM keys are kept in `mail_keys` when given)."""
    world = shared_world()
    everything = domains is None
    if domains is None:
        domains = {
            HEALTHY: Knobs(),
            FACTS_PRESENT: Knobs(ipv6_dnssec=True),
            FORGOTTEN_ALIASES: FORGOTTEN_ALIAS_KNOBS,
            **TLS_CASES,
            **{apex: knobs for apex, knobs in TRIPS.values()},
            **DEMO,
        }
        build_hostile(world)
        build_hostile_text(world)
        add_sender_records(world.zone, sender_keys(mail_keys))
        add_report_sources(world.zone, REPORT_MAIL_DOMAIN, list(DEMO))
    for apex, knobs in domains.items():
        build_domain(world, apex, replace(knobs, latency=latency or knobs.latency))
    if HEALTHY in domains and "askmira.test" in domains:
        build_assistants(world)
    if everything:  # last, so that every other site keeps the address it always had
        for apex, flaw in SAAS_APPS.items():
            build_saas_app(world, apex, flaw)
        build_headers_echo(world)
    world.zone.latency = dns_latency
    return world


def build_saas_app(world: World, apex: str, flaw: Flaw = Flaw.NONE) -> SaasApp:
    """The fake SaaS app on a domain of its own: the app on app.<apex> (and on the apex, as apps are after a
    domain change), its API on api.<apex>; DNS and mail as on the healthy domain."""
    app = SaasApp(apex, flaw)
    world.site([f"app.{apex}"], pages={"*": Page(app=app.web)})
    world.site([apex], pages={"*": Page(app=app.web)})
    world.site([f"api.{apex}"], pages={"*": Page(app=app.api)})
    _dns_extras(world, apex, Knobs())
    _mail(world, apex, Knobs())
    return app


def build_headers_echo(world: World, apex: str = "token-redirect.test", other: str = "headers-echo.test") -> None:
    """An app whose redirect sends the client to another origin, which answers with the headers it was sent
    (what an open redirect hands a third party); and the same redirect within the origin."""

    def echo(request: Request) -> Page:
        return Page(body=json.dumps(request.headers), headers=[("Content-Type", "application/json")])

    world.site(
        [apex],
        pages={
            "/": Page(status=302, location=f"https://{other}/"),
            "/same": Page(status=302, location=f"https://{apex}/echo"),
            "/echo": Page(app=echo),
        },
    )
    world.site([other], pages={"*": Page(app=echo)})


def build_dns_only(world: World, apex: str, address: str) -> None:
    """A healthy domain's DNS and mail records, its apex and www pointing at a server outside the sandbox
    (the product itself, served by gunicorn, when it audits itself)."""
    for host in (apex, f"www.{apex}"):
        world.zone.add(host, "A", address)
    _dns_extras(world, apex, Knobs())
    _mail(world, apex, Knobs())


def build_assistants(world: World) -> None:
    """The sandbox AI assistants: a leaky one for the demo's chatbot client, a safe and a hanging one."""
    for site in assistant_sites(world.ip):
        for host in site.hosts:
            world.zone.add(host, "A", site.ip)
        world.sites.append(site)
