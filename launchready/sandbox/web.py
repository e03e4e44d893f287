"""The sandbox's web servers: HTTP and HTTPS on 127.0.x.y addresses, with per-path behaviours
(status, headers, body, redirects, delays, slow drip, oversized or garbage answers)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import os
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from launchready.sandbox.ca import CertKind, SandboxCA

REASONS = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Request:
    """What a sandbox app sees of one request: method, path with its query, headers (names lower-cased), body."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    host: str
    scheme: str

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def cookies(self) -> dict[str, str]:
        pairs = (part.strip().partition("=") for part in self.headers.get("cookie", "").split(";"))
        return {name: value for name, _, value in pairs if name}


@dataclass
class Page:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str | bytes = ""
    location: str | None = None  # a redirect target (status defaults to 301 when set)
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between body bytes
    size: int = 0  # stream this many filler bytes as the body
    garbage: bool = False  # answer bytes that are not HTTP at all
    bad_header: bool = False  # a header line with bytes HTTP forbids
    hang: bool = False  # accept the request and never answer
    compress: bool = True  # gzip text bodies when the client accepts it
    respond: Callable[[str, bytes], Page] | None = None  # a page made from the request (method, body): a chat bot
    app: Callable[[Request], Page] | None = None  # a page made from the whole request: a web app with sessions

    def __post_init__(self) -> None:
        if self.location is not None and self.status == 200:
            self.status = 301


@dataclass
class Site:
    """One or more host names served from one loopback address."""

    hosts: list[str]
    ip: str
    pages: dict[str, Page] = field(default_factory=dict)  # path (or prefix ending in *) to behaviour
    cert: CertKind = CertKind.VALID
    https: bool = True
    http: bool = True
    http_redirect: int | None = 301  # answer plain http with this redirect to https (None: serve pages)
    tls10: bool = False  # also accept TLS 1.0 and 1.1
    tls_garbage: bool = False  # the HTTPS port answers the handshake with junk
    latency: float = 0.0  # injected before every answer
    headers: list[tuple[str, str]] = field(default_factory=list)  # added to every answer (a CDN's, say)
    cert_org: str = ""  # the organisation named in the certificate (the sandbox's own when empty)

    def page(self, path: str) -> Page | None:
        bare = path.split("?", 1)[0]
        if path in self.pages:
            return self.pages[path]
        if bare in self.pages:
            return self.pages[bare]
        prefixes = [p for p in self.pages if p.endswith("*") and bare.startswith(p[:-1])]
        if prefixes:
            return self.pages[max(prefixes, key=len)]
        return self.pages.get("*")


REQUEST_WAIT = 10.0  # seconds a new connection may take to send its request
IDLE_WAIT = 5.0  # seconds a kept-alive connection may sit idle before the sandbox closes it
NOT_FOUND = Page(status=404, body="<h1>Not found</h1>", headers=[("Content-Type", "text/html")])


class WebSandbox:
    """Serves a list of sites on their addresses, all on one HTTP port and one HTTPS port."""

    def __init__(self, sites: list[Site], ca: SandboxCA | None = None, http_port: int = 0, https_port: int = 0) -> None:
        self.sites = sites
        self.ca = ca or SandboxCA()
        self.http_port = http_port
        self.https_port = https_port
        self.requests = 0
        self.connections = 0  # connections that carried at least one request (kept-alive ones count once)
        self.received: list[dict[str, object]] = []  # every request with a body (webhooks, alerts), in order
        self._servers: list[asyncio.Server] = []
        self._by_ip: dict[str, list[Site]] = {}
        for site in sites:
            self._by_ip.setdefault(site.ip, []).append(site)
        self._contexts: dict[str, ssl.SSLContext] = {}

    def site_for(self, ip: str, host: str) -> Site | None:
        host = host.split(":")[0].lower().rstrip(".")
        sites = self._by_ip.get(ip, [])
        for site in sites:
            if host in site.hosts:
                return site
        return sites[0] if sites else None

    def _context(self, site: Site) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if site.tls10 or site.cert == CertKind.WEAK_KEY:
            context.set_ciphers("ALL:@SECLEVEL=0")
        context.minimum_version = ssl.TLSVersion.TLSv1 if site.tls10 else ssl.TLSVersion.TLSv1_2
        issued = self.ca.issue(site.hosts, site.cert, org=site.cert_org)
        context.load_cert_chain(issued.cert_path, issued.key_path)
        return context

    async def start(self) -> None:
        for ip, sites in self._by_ip.items():
            for site in sites:
                if site.https and not site.tls_garbage:
                    for host in site.hosts:
                        self._contexts[host] = self._context(site)
            base_site = sites[0]
            if any(s.http for s in sites):
                server = await asyncio.start_server(
                    functools.partial(self._serve, ip=ip, scheme="http"), ip, self.http_port
                )
                self.http_port = server.sockets[0].getsockname()[1]
                self._servers.append(server)
            if any(s.https for s in sites):
                handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
                context: ssl.SSLContext | None = None
                if base_site.tls_garbage:
                    handler = self._garbage_tls
                else:
                    context = self._contexts[base_site.hosts[0]]
                    context.sni_callback = self._sni
                    handler = functools.partial(self._serve, ip=ip, scheme="https")
                server = await asyncio.start_server(handler, ip, self.https_port, ssl=context)
                self.https_port = server.sockets[0].getsockname()[1]
                self._servers.append(server)

    def _sni(self, sslobj: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        if name and name.lower() in self._contexts:
            sslobj.context = self._contexts[name.lower()]

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)
        self._servers.clear()

    async def _garbage_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.read(512)
            writer.write(b"\x16\x03\x01\xff\xff" + os.urandom(64) + b"not a TLS server\r\n")
            await writer.drain()
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ip: str, scheme: str) -> None:
        """Answer requests on one connection for as long as the client keeps it open, as servers do
        (HTTP/1.1 persistent connections); the odd pages (garbage, a hang, a drip) close it after them."""
        first = True
        try:
            while await self._serve_one(reader, writer, ip, scheme, first):
                first = False
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _serve_one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ip: str, scheme: str, first: bool
    ) -> bool:
        """One request and its answer; whether the connection stays open for the next."""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_WAIT if first else IDLE_WAIT)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError, ssl.SSLError):
            return False
        if first:
            self.connections += 1
        self.requests += 1
        try:
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ", 2)
            headers = {
                k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
            }
        except ValueError:
            return False
        length = headers.get("content-length", "0")
        body = b""
        if length.isdigit() and int(length) > 0:
            if int(length) > 1_000_000:
                return False
            try:
                body = await asyncio.wait_for(reader.readexactly(int(length)), REQUEST_WAIT)
            except (asyncio.IncompleteReadError, TimeoutError, ConnectionError, ssl.SSLError):
                return False
            self.received.append(
                {"method": method, "host": headers.get("host", ""), "path": target, "headers": headers, "body": body}
            )
        elif "transfer-encoding" in headers:  # a chunked body the sandbox does not read: end the connection
            headers["connection"] = "close"
        if version.strip() != "HTTP/1.1":
            headers["connection"] = "close"
        site = self.site_for(ip, headers.get("host", ""))
        try:
            return await self._answer(writer, site, scheme, method, target, headers, body)
        except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
            return False

    async def _answer(
        self,
        writer: asyncio.StreamWriter,
        site: Site | None,
        scheme: str,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes = b"",
    ) -> bool:
        if site is None:
            return await _write(writer, NOT_FOUND, method, headers)
        if site.latency:
            await asyncio.sleep(site.latency)
        host = headers.get("host", site.hosts[0]).split(":")[0]
        if scheme == "http" and site.http_redirect and site.https:
            page = Page(status=site.http_redirect, location=f"https://{host}{target}", body="")
        else:
            page = site.page(target) or NOT_FOUND
            if page.respond is not None:
                page = page.respond(method, body)
            elif page.app is not None:
                page = page.app(Request(method, target, headers, body, host, scheme))
        if site.headers:
            page = replace(page, headers=[*page.headers, *site.headers])
        return await _write(writer, page, method, headers, target)


async def _write(
    writer: asyncio.StreamWriter, page: Page, method: str, request_headers: dict[str, str], target: str = "/"
) -> bool:
    """Write the page's answer; whether the connection may carry another request."""
    if page.hang:
        await asyncio.sleep(3600)
        return False
    if page.delay:
        await asyncio.sleep(page.delay)
    if page.garbage:
        writer.write(b"\x00\xffTHIS IS NOT HTTP\x00" + os.urandom(256))
        await writer.drain()
        return False
    body = page.body.encode() if isinstance(page.body, str) else page.body
    # "{origin}" in a header echoes the request's Origin (a CORS mistake); "{path}" keeps the path in a redirect.
    origin = request_headers.get("origin", "")
    headers = [(k, v.replace("{origin}", origin)) for k, v in page.headers]
    names = {k.lower() for k, _ in headers}
    if page.location is not None:
        headers.append(("Location", page.location.replace("{path}", target)))
    if "content-type" not in names and not page.size:
        headers.append(("Content-Type", "text/html; charset=utf-8"))
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    textual = content_type.startswith(("text/", "application/javascript", "application/json", "image/svg"))
    if page.compress and textual and body and "gzip" in request_headers.get("accept-encoding", "") and not page.drip:
        body = gzip.compress(body)
        headers.append(("Content-Encoding", "gzip"))
        headers.append(("Vary", "Accept-Encoding"))
    length = page.size or len(body)
    headers.append(("Content-Length", str(length)))
    # Filler and dripped bodies, broken headers and a client that asked for it end the connection.
    keep = not (page.size or page.drip or page.bad_header) and request_headers.get("connection", "").lower() != "close"
    headers.append(("Connection", "keep-alive" if keep else "close"))
    head = f"HTTP/1.1 {page.status} {REASONS.get(page.status, 'Status')}\r\n"
    raw = head.encode() + b"".join(f"{k}: {v}\r\n".encode("latin-1", "replace") for k, v in headers)
    if page.bad_header:
        raw += b"X-Broken\x00Header: \x01\x02\r\n"
    writer.write(raw + b"\r\n")
    await writer.drain()
    if method == "HEAD":
        return keep
    if page.size:
        chunk = b"A" * 65536
        sent = 0
        while sent < page.size and not writer.is_closing():
            part = chunk[: min(len(chunk), page.size - sent)]
            writer.write(part)
            await writer.drain()
            sent += len(part)
        return False
    if page.drip:
        for i in range(len(body)):
            if writer.is_closing():
                return False
            writer.write(body[i : i + 1])
            await writer.drain()
            await asyncio.sleep(page.drip)
        return False
    writer.write(body)
    await writer.drain()
    return keep
