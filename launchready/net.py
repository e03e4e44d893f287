"""The one door to the internet: every DNS query and HTTP request of audits and monitors goes through here.

DNS uses dnspython's async resolver with its own nameservers; HTTP uses httpx with redirects followed by
hand. A host is resolved here and the connection made to that very address (SNI and Host set to the
name), so the address the SSRF guard checked is the address used. Every call is bounded: timeouts, a
total deadline, bytes read, redirects and DNS queries per audit.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import ipaddress
import os
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import certifi
import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdatatype
import dns.resolver
import httpx
import idna

USER_AGENT = "LaunchReady/1.0 (+launch audit)"


# --- Configuration ---------------------------------------------------------------------------------


class NetConfigError(ValueError):
    """A LAUNCHREADY_* network setting is malformed; the message names it."""


@dataclass(frozen=True)
class NetConfig:
    resolvers: tuple[tuple[str, int], ...] = ()
    port_map: Mapping[int, int] = field(default_factory=dict)
    ca_bundle: str | None = None
    allow_private_targets: bool = False
    dns_timeout: float = 3.0
    dns_lifetime: float = 6.0
    connect_timeout: float = 5.0
    read_timeout: float = 8.0
    request_deadline: float = 15.0
    max_body_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 10
    max_dns_queries: int = 400

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NetConfig:
        env = os.environ if environ is None else environ
        return cls(
            resolvers=parse_resolvers(env.get("LAUNCHREADY_RESOLVER", "")),
            port_map=parse_port_map(env.get("LAUNCHREADY_PORT_MAP", "")),
            ca_bundle=_ca_bundle(env.get("LAUNCHREADY_CA_BUNDLE", "")),
            allow_private_targets=env.get("LAUNCHREADY_ALLOW_PRIVATE_TARGETS", "").strip().lower()
            in ("1", "true", "yes", "on"),
        )


def parse_resolvers(text: str) -> tuple[tuple[str, int], ...]:
    """`host:port[,host:port]` (IPv6 as `[::1]:53`); the port defaults to 53."""
    servers: list[tuple[str, int]] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        host, port = item, "53"
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = rest.lstrip(":") or "53"
        elif item.count(":") == 1:
            host, port = item.split(":")
        try:
            ipaddress.ip_address(host)
            number = int(port)
        except ValueError:
            raise NetConfigError(f"LAUNCHREADY_RESOLVER has a malformed entry: {item!r} (use ip:port)") from None
        if not 0 < number < 65536:
            raise NetConfigError(f"LAUNCHREADY_RESOLVER has a port out of range: {item!r}")
        servers.append((host, number))
    return tuple(servers)


def parse_port_map(text: str) -> dict[int, int]:
    """`80:18080,443:18443`: connect to the second port whenever a URL says the first."""
    mapping: dict[int, int] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            source, target = (int(p) for p in item.split(":"))
        except ValueError:
            raise NetConfigError(f"LAUNCHREADY_PORT_MAP has a malformed entry: {item!r} (use 443:18443)") from None
        if not (0 < source < 65536 and 0 < target < 65536):
            raise NetConfigError(f"LAUNCHREADY_PORT_MAP has a port out of range: {item!r}")
        mapping[source] = target
    return mapping


def _ca_bundle(path: str) -> str | None:
    path = path.strip()
    if not path:
        return None
    if not os.path.isfile(path):
        raise NetConfigError(f"LAUNCHREADY_CA_BUNDLE is not a readable file: {path}")
    return path


# --- The SSRF guard --------------------------------------------------------------------------------

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# The IANA IPv4 and IPv6 Special-Purpose Address Registries (and the older blocks the address-space
# registries still mark as reserved or deprecated), each with why it is refused; None where the
# registry marks the block globally reachable (anycast services that are public by design). The most
# specific block that holds an address decides, so those exceptions win over the block around them.
SPECIAL_PURPOSE: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str | None], ...] = (
    # IPv4
    (_V4("0.0.0.0/32"), "an unspecified address"),
    (_V4("0.0.0.0/8"), "a 'this network' address"),
    (_V4("10.0.0.0/8"), "a private address"),
    (_V4("100.64.0.0/10"), "a shared (carrier-grade NAT) address"),
    (_V4("127.0.0.0/8"), "a loopback address"),
    (_V4("169.254.0.0/16"), "a link-local address (cloud metadata lives here)"),
    (_V4("172.16.0.0/12"), "a private address"),
    (_V4("192.0.0.0/24"), "an IETF protocol address"),
    (_V4("192.0.0.9/32"), None),  # Port Control Protocol anycast: globally reachable
    (_V4("192.0.0.10/32"), None),  # TURN anycast: globally reachable
    (_V4("192.0.2.0/24"), "a documentation address"),
    (_V4("192.31.196.0/24"), None),  # AS112-v4: globally reachable
    (_V4("192.52.193.0/24"), None),  # AMT: globally reachable
    (_V4("192.88.99.0/24"), "a deprecated 6to4 relay address"),  # RFC 7526: relays, never a web host
    (_V4("192.88.99.2/32"), None),  # 6a44 relay anycast (RFC 6751): the registry marks it globally reachable
    (_V4("192.168.0.0/16"), "a private address"),
    (_V4("192.175.48.0/24"), None),  # AS112 direct delegation: globally reachable
    (_V4("198.18.0.0/15"), "a benchmarking address"),
    (_V4("198.51.100.0/24"), "a documentation address"),
    (_V4("203.0.113.0/24"), "a documentation address"),
    (_V4("224.0.0.0/4"), "a multicast address"),
    (_V4("240.0.0.0/4"), "a reserved address"),
    (_V4("255.255.255.255/32"), "a broadcast address"),
    # IPv6
    (_V6("::/128"), "an unspecified address"),
    (_V6("::1/128"), "a loopback address"),
    (_V6("::/8"), "a reserved address"),  # includes the deprecated IPv4-compatible ::/96
    (_V6("::ffff:0:0/96"), "an IPv4-mapped address"),
    (_V6("64:ff9b::/96"), None),  # NAT64 well-known prefix: globally reachable (the IPv4 inside is judged)
    (_V6("64:ff9b:1::/48"), "a local-use NAT64 address"),
    (_V6("100::/64"), "a discard-only address"),
    (_V6("100:0:0:1::/64"), "a dummy address"),
    (_V6("2001::/23"), "an IETF protocol address"),
    (_V6("2001::/32"), "a Teredo tunnel address"),  # the registry says N/A: a client-side tunnel, not a host
    (_V6("2001:1::1/128"), None),  # Port Control Protocol anycast: globally reachable
    (_V6("2001:1::2/128"), None),  # TURN anycast: globally reachable
    (_V6("2001:1::3/128"), None),  # DNS-SD service registration anycast: globally reachable
    (_V6("2001:2::/48"), "a benchmarking address"),
    (_V6("2001:3::/32"), None),  # AMT: globally reachable
    (_V6("2001:4:112::/48"), None),  # AS112-v6: globally reachable
    (_V6("2001:10::/28"), "a deprecated ORCHID address"),
    (_V6("2001:20::/28"), None),  # ORCHIDv2: globally reachable
    (_V6("2001:30::/28"), None),  # Drone Remote ID entity tags: globally reachable
    (_V6("2001:db8::/32"), "a documentation address"),
    (_V6("2002::/16"), None),  # 6to4: the registry says N/A; the IPv4 inside is judged
    (_V6("2620:4f:8000::/48"), None),  # AS112 direct delegation: globally reachable
    (_V6("3fff::/20"), "a documentation address"),
    (_V6("5f00::/16"), "a segment-routing address"),
    (_V6("fc00::/7"), "a private (unique local) address"),
    (_V6("fe80::/10"), "a link-local address (cloud metadata lives here)"),
    (_V6("fec0::/10"), "a deprecated site-local address"),
    (_V6("ff00::/8"), "a multicast address"),
)


def _special_purpose(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[bool, str | None]:
    """(whether a listed block holds the address, why it is refused); the most specific block decides."""
    holding = [(net, reason) for net, reason in SPECIAL_PURPOSE if net.version == ip.version and ip in net]
    if not holding:
        return False, None
    _, reason = max(holding, key=lambda row: row[0].prefixlen)
    return True, reason


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 form carries to a host (mapped, 6to4, NAT64), with the form's name."""
    if ip.ipv4_mapped is not None:
        return "an IPv4-mapped", ip.ipv4_mapped
    if ip.sixtofour is not None:
        return "a 6to4", ip.sixtofour
    if ip in _V6("64:ff9b::/96"):
        return "a NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(address: str) -> str | None:
    """Why an address is not a public internet address (None when it is)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            form, inner = embedded
            reason = address_refusal(str(inner))
            if reason:
                return f"{form} form of {reason}"
    listed, reason = _special_purpose(ip)
    if listed:
        return reason
    # Anything the registries above do not name is judged by the standard library's view of it.
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private or ip.is_reserved or not ip.is_global:
        return "not a public internet address"
    return None


# --- Results ---------------------------------------------------------------------------------------


class DnsStatus(StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"  # the name does not exist
    NODATA = "nodata"  # the name exists but has no record of this type
    SERVFAIL = "servfail"  # the DNS server failed or refused: not the same as "no record"
    TIMEOUT = "timeout"
    INVALID = "invalid"  # the name itself is malformed
    LIMIT = "limit"  # this audit used up its DNS query budget
    REFUSED = "refused"  # the address guard refused the nameserver's address: it was never asked


@dataclass(frozen=True)
class DnsRecord:
    name: str
    rdtype: str
    ttl: int
    value: str


@dataclass(frozen=True)
class DnsAnswer:
    name: str
    rdtype: str
    status: DnsStatus
    records: tuple[DnsRecord, ...] = ()
    cnames: tuple[DnsRecord, ...] = ()  # the CNAME chain followed to reach the answer
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == DnsStatus.OK

    @property
    def is_void(self) -> bool:
        """No data for this name and type (what RFC 7208 calls a void lookup)."""
        return self.status in (DnsStatus.NXDOMAIN, DnsStatus.NODATA)

    @property
    def is_failure(self) -> bool:
        """The question could not be answered (which is never the same as 'no record')."""
        return self.status in (DnsStatus.SERVFAIL, DnsStatus.TIMEOUT, DnsStatus.LIMIT, DnsStatus.REFUSED)

    @property
    def values(self) -> list[str]:
        return [r.value for r in self.records]


class FetchError(StrEnum):
    REFUSED = "refused"  # the SSRF guard refused the address
    DNS = "dns"
    CONNECT = "connect"
    TLS = "tls"
    TIMEOUT = "timeout"
    PROTOCOL = "protocol"  # the server's answer was not valid HTTP
    TOO_MANY_REDIRECTS = "too_many_redirects"
    REDIRECT_LOOP = "redirect_loop"
    BAD_URL = "bad_url"


@dataclass
class Hop:
    """One request and its response on the way to the final answer."""

    url: str
    address: str = ""
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    location: str | None = None
    elapsed_ms: float = 0.0
    ttfb_ms: float = 0.0
    http_version: str = ""
    error: FetchError | None = None
    detail: str = ""
    method: str = "GET"  # a 303 (or a 301/302 after a POST) turns the next hop into a GET

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]


@dataclass
class FetchResult:
    hops: list[Hop]
    body: bytes = b""
    truncated: bool = False
    # For a request timed by launchready.timing: how late the timing loop was when the answer came in,
    # which its timers counted; the server took no less than the rest.
    lag_ms: float = 0.0

    @property
    def final(self) -> Hop:
        return self.hops[-1]

    @property
    def ok(self) -> bool:
        return self.final.error is None and self.final.status is not None

    @property
    def error(self) -> FetchError | None:
        return self.final.error

    @property
    def text(self) -> str:
        charset = "utf-8"
        content_type = self.final.header("content-type") or ""
        if "charset=" in content_type:
            charset = content_type.split("charset=", 1)[1].split(";")[0].strip().strip('"') or "utf-8"
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


@dataclass
class TlsInfo:
    host: str
    address: str = ""
    port: int = 443
    protocol: str = ""
    cipher: str = ""
    chain_der: list[bytes] = field(default_factory=list)  # as the server presented it, leaf first
    error: FetchError | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.chain_der)


# --- The door itself -------------------------------------------------------------------------------


REDIRECT_STATUSES = {301, 302, 303, 307, 308}

# DNS answers kept for their TTL across Nets, one cache per set of resolvers.
_DNS_CACHES: dict[tuple[tuple[str, int], ...], dns.resolver.LRUCache] = {}


def dns_cache_for(config: NetConfig) -> dns.resolver.LRUCache:
    """The DNS cache shared by every long-lived prober asking these resolvers (the monitors' probe rounds)."""
    return _DNS_CACHES.setdefault(config.resolvers, dns.resolver.LRUCache(max_size=50_000))


class Net:
    """One audit's (or one probe round's) view of the internet, with its own budget and deadline."""

    def __init__(
        self,
        config: NetConfig | None = None,
        *,
        deadline: float | None = None,
        dns_cache: dns.resolver.CacheBase | None = None,
    ) -> None:
        """`dns_cache`, when given, keeps answers for their TTL beyond this Net's life (the monitors share
        one across rounds, as any long-running client would; an audit always asks afresh)."""
        self.config = config or current_config()
        self.deadline = time.monotonic() + deadline if deadline else None
        self.dns_queries = 0
        self._dns_cache: dict[tuple[str, str], asyncio.Future[DnsAnswer]] = {}
        self._resolver = _make_resolver(self.config)
        self._resolver.cache = dns_cache
        self._clients: dict[tuple[str, bool], httpx.AsyncClient] = {}
        self._memo: dict[tuple[Any, ...], asyncio.Future[Any]] = {}

    # -- time ------------------------------------------------------------------------------------

    def remaining(self, cap: float) -> float:
        """Seconds a call may take: its own cap, cut short by the run's deadline."""
        if self.deadline is None:
            return cap
        return max(0.05, min(cap, self.deadline - time.monotonic()))

    @property
    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    # -- DNS -------------------------------------------------------------------------------------

    async def dns(self, name: str, rdtype: str) -> DnsAnswer:
        """One question; answers are cached for the life of this Net so checks can share them."""
        key = (name.lower().rstrip("."), rdtype.upper())
        return await _share(self._dns_cache, key, lambda: self._query(*key))

    async def _query(self, name: str, rdtype: str) -> DnsAnswer:
        if self.dns_queries >= self.config.max_dns_queries:
            return DnsAnswer(name, rdtype, DnsStatus.LIMIT, error="this audit's DNS query budget is used up")
        if self.expired:
            return DnsAnswer(name, rdtype, DnsStatus.TIMEOUT, error="the audit's deadline passed")
        self.dns_queries += 1
        try:
            qname = dns.name.from_text(name)
        except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
            return DnsAnswer(name, rdtype, DnsStatus.INVALID, error=str(exc) or type(exc).__name__)
        lifetime = self.remaining(self.config.dns_lifetime)
        try:
            result = await self._resolver.resolve(qname, rdtype, search=False, lifetime=lifetime)
        except dns.resolver.NXDOMAIN:
            return DnsAnswer(name, rdtype, DnsStatus.NXDOMAIN)
        except dns.resolver.NoAnswer as exc:
            return DnsAnswer(name, rdtype, DnsStatus.NODATA, cnames=_cnames(exc.kwargs.get("response")))
        except dns.resolver.LifetimeTimeout:
            return DnsAnswer(name, rdtype, DnsStatus.TIMEOUT, error=f"no answer within {lifetime:.1f} s")
        except dns.resolver.NoNameservers as exc:
            return DnsAnswer(name, rdtype, DnsStatus.SERVFAIL, error=_first_line(str(exc)))
        except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
            # Malformed or hostile answers (bad wire data, loops, oversized names) land here.
            return DnsAnswer(name, rdtype, DnsStatus.SERVFAIL, error=_first_line(str(exc)) or type(exc).__name__)
        response = result.response
        records = tuple(
            DnsRecord(
                rrset.name.to_text(omit_final_dot=True), dns.rdatatype.to_text(rrset.rdtype), rrset.ttl, _value(rd)
            )
            for rrset in response.answer
            if rrset.rdtype == dns.rdatatype.from_text(rdtype)
            for rd in rrset
        )
        return DnsAnswer(name, rdtype, DnsStatus.OK, records=records, cnames=_cnames(response))

    async def dns_at(self, server: str, name: str, rdtype: str) -> DnsAnswer:
        """Ask one nameserver directly (to see whether a domain's nameservers agree); the guard applies."""
        reason = self.refusal(server)
        if reason:
            return DnsAnswer(name, rdtype, DnsStatus.REFUSED, error=f"{server} is {reason}; not asked")
        if self.dns_queries >= self.config.max_dns_queries:
            return DnsAnswer(name, rdtype, DnsStatus.LIMIT, error="this audit's DNS query budget is used up")
        self.dns_queries += 1
        try:
            query = dns.message.make_query(name, rdtype)
        except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
            return DnsAnswer(name, rdtype, DnsStatus.INVALID, error=str(exc) or type(exc).__name__)
        timeout = self.remaining(self.config.dns_timeout)
        try:
            response, _ = await dns.asyncquery.udp_with_fallback(
                query, server, timeout=timeout, port=self.connect_port(53)
            )
        except dns.exception.Timeout:
            return DnsAnswer(name, rdtype, DnsStatus.TIMEOUT, error=f"{server} did not answer within {timeout:.1f} s")
        except (dns.exception.DNSException, OSError, ValueError) as exc:
            return DnsAnswer(name, rdtype, DnsStatus.SERVFAIL, error=_first_line(str(exc)) or type(exc).__name__)
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            return DnsAnswer(name, rdtype, DnsStatus.NXDOMAIN)
        if rcode != dns.rcode.NOERROR:
            return DnsAnswer(name, rdtype, DnsStatus.SERVFAIL, error=dns.rcode.to_text(rcode))
        wanted = dns.rdatatype.from_text(rdtype)
        records = tuple(
            DnsRecord(rrset.name.to_text(omit_final_dot=True), rdtype, rrset.ttl, _value(rd))
            for rrset in response.answer
            if rrset.rdtype == wanted
            for rd in rrset
        )
        return DnsAnswer(name, rdtype, DnsStatus.OK if records else DnsStatus.NODATA, records=records)

    async def addresses(self, host: str) -> tuple[list[str], DnsAnswer, DnsAnswer]:
        """A and AAAA for a host, asked together."""
        a, aaaa = await asyncio.gather(self.dns(host, "A"), self.dns(host, "AAAA"))
        return [*a.values, *aaaa.values], a, aaaa

    # -- addresses and the guard ------------------------------------------------------------------

    def refusal(self, address: str) -> str | None:
        if self.config.allow_private_targets:
            return None
        return address_refusal(address)

    async def pick_address(self, host: str) -> tuple[str | None, FetchError | None, str]:
        """Resolve a host and choose the address to connect to; refuse it if the guard says so."""
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            candidates = [str(literal)]
        else:
            candidates, a, aaaa = await self.addresses(host)
            if not candidates:
                worst = a if a.is_failure else aaaa if aaaa.is_failure else a
                detail = {
                    DnsStatus.NXDOMAIN: f"{host} does not exist in DNS",
                    DnsStatus.NODATA: f"{host} has no A or AAAA record",
                }.get(worst.status, f"DNS lookup of {host} failed ({worst.status}: {worst.error})")
                return None, FetchError.DNS, detail
        for address in candidates:
            reason = self.refusal(address)
            if reason:
                return None, FetchError.REFUSED, f"{host} resolves to {address}, {reason}; refused"
        # IPv4 first: the sandbox and most hosts answer there.
        candidates.sort(key=lambda a: ":" in a)
        return candidates[0], None, ""

    def connect_port(self, port: int) -> int:
        return self.config.port_map.get(port, port)

    # -- HTTP ------------------------------------------------------------------------------------

    def _http(self, host: str, verify: bool) -> httpx.AsyncClient:
        """The client for one host name: httpx pools connections by the address it connects to, and a
        connection whose certificate was checked for one name must never carry another name's request
        (two sites behind one CDN address would otherwise share the first one's verdict)."""
        client = self._clients.get((host, verify))
        if client is None:
            client = httpx.AsyncClient(
                verify=tls_context(self.config.ca_bundle) if verify else _insecure_context(),
                follow_redirects=False,
                trust_env=False,
                cookies=_no_cookies(),
                timeout=httpx.Timeout(
                    connect=self.config.connect_timeout,
                    read=self.config.read_timeout,
                    write=self.config.read_timeout,
                    pool=self.config.connect_timeout,
                ),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            )
            self._clients[(host, verify)] = client
        return client

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        max_redirects: int | None = None,
        max_bytes: int | None = None,
        verify: bool = True,
        content: bytes | None = None,
    ) -> FetchResult:
        """Request a URL, following redirects by hand; every hop is recorded, re-resolved and guarded."""
        limit = self.config.max_redirects if max_redirects is None else max_redirects
        hops: list[Hop] = []
        # A POST answered with a 303 to its own URL (post/redirect/get) is not a loop: the method counts.
        seen: set[tuple[str, str]] = set()
        current = url
        for _ in range(limit + 1):
            hop, body, truncated = await self._one(current, method, headers, max_bytes, verify, content)
            hops.append(hop)
            seen.add((method, current))
            if hop.error or not follow_redirects or hop.status not in REDIRECT_STATUSES or not hop.location:
                return FetchResult(hops, body, truncated)
            next_url = urljoin(current, hop.location)
            if (hop.status == 303 and method != "HEAD") or (hop.status in (301, 302) and method == "POST"):
                method, content = "GET", None
            if (method, next_url) in seen:
                loop = Hop(next_url, method=method, error=FetchError.REDIRECT_LOOP)
                loop.detail = f"redirects back to {next_url}"
                return FetchResult([*hops, loop])
            current = next_url
        too_many = Hop(current, method=method, error=FetchError.TOO_MANY_REDIRECTS)
        too_many.detail = f"more than {limit} redirects"
        hops.append(too_many)
        return FetchResult(hops)

    async def _one(
        self,
        url: str,
        method: str,
        headers: Mapping[str, str] | None,
        max_bytes: int | None,
        verify: bool,
        content: bytes | None,
    ) -> tuple[Hop, bytes, bool]:
        hop = Hop(url, method=method)
        try:
            parts = urlsplit(url)
            explicit_port = parts.port
        except ValueError:
            hop.error, hop.detail = FetchError.BAD_URL, "the address is not a valid URL"
            return hop, b"", False
        default_port = 443 if parts.scheme == "https" else 80
        port = default_port if explicit_port is None else explicit_port
        host = _wire_host(parts.hostname or "")
        if parts.scheme not in ("http", "https") or not host or not port:
            hop.error, hop.detail = FetchError.BAD_URL, f"cannot fetch {url!r}"
            return hop, b"", False
        address, error, detail = await self.pick_address(host)
        if address is None:
            hop.error, hop.detail = error, detail
            return hop, b"", False
        hop.address = address
        netloc = f"[{address}]" if ":" in address else address
        target = urlunsplit((parts.scheme, f"{netloc}:{self.connect_port(port)}", parts.path or "/", parts.query, ""))
        name = f"[{host}]" if ":" in host else host
        host_header = name if port == default_port else f"{name}:{port}"
        request_headers = {"User-Agent": USER_AGENT, "Accept": "*/*", **(headers or {}), "Host": host_header}
        extensions: dict[str, Any] = {"sni_hostname": host} if parts.scheme == "https" else {}
        limit = self.config.max_body_bytes if max_bytes is None else max_bytes
        client = self._http(host, verify)
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.remaining(self.config.request_deadline)):
                request = client.build_request(
                    method, target, headers=request_headers, content=content, extensions=extensions
                )
                response = await client.send(request, stream=True)
                try:
                    hop.ttfb_ms = (time.monotonic() - started) * 1000
                    hop.status = response.status_code
                    hop.http_version = response.http_version
                    hop.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
                    hop.location = response.headers.get("location")
                    body, truncated = await _read_capped(response, limit)
                finally:
                    await response.aclose()
        except TimeoutError:
            hop.error, hop.detail = FetchError.TIMEOUT, "no complete answer before the deadline"
            return _timed(hop, started), b"", False
        except httpx.TimeoutException as exc:
            hop.error, hop.detail = FetchError.TIMEOUT, f"{type(exc).__name__}"
            return _timed(hop, started), b"", False
        except httpx.ConnectError as exc:
            text = str(exc)
            is_tls = "SSL" in text or "CERTIFICATE" in text.upper() or "TLS" in text
            hop.error = FetchError.TLS if is_tls else FetchError.CONNECT
            hop.detail = _first_line(text) or type(exc).__name__
            return _timed(hop, started), b"", False
        except (httpx.RemoteProtocolError, httpx.LocalProtocolError, httpx.DecodingError) as exc:
            hop.error, hop.detail = FetchError.PROTOCOL, _first_line(str(exc)) or type(exc).__name__
            return _timed(hop, started), b"", False
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            hop.error, hop.detail = FetchError.CONNECT, _first_line(str(exc)) or type(exc).__name__
            return _timed(hop, started), b"", False
        return _timed(hop, started), body, truncated

    async def shared(self, key: tuple[Any, ...], make: Any) -> Any:
        """Run `make()` once per key for the life of this Net; concurrent callers share the one result.

        Checks of one audit look at the same pages and handshakes: this keeps each one to a single
        round trip, which is what keeps an audit near its critical path.
        """
        return await _share(self._memo, key, make)

    async def page(self, url: str, *, follow_redirects: bool = True) -> FetchResult:
        """A GET shared by every check of this audit."""
        return await self.shared(
            ("GET", url, follow_redirects), lambda: self.fetch(url, follow_redirects=follow_redirects)
        )

    async def handshake(self, host: str, port: int = 443) -> TlsInfo:
        """A TLS handshake shared by every check of this audit."""
        return await self.shared(("TLS", host, port), lambda: self.tls(host, port))

    # -- TLS -------------------------------------------------------------------------------------

    async def tls(self, host: str, port: int = 443, *, max_version: ssl.TLSVersion | None = None) -> TlsInfo:
        """Handshake with a host and keep what it presented: protocol, cipher and certificate chain.

        Nothing is verified here (the chain is judged by the caller with cryptography), so that an
        expired or mismatched certificate can still be read and reported.
        """
        info = TlsInfo(host=host, port=port)
        address, error, detail = await self.pick_address(host)
        if address is None:
            info.error, info.detail = error, detail
            return info
        info.address = address
        context = _inspection_context(max_version)
        try:
            async with asyncio.timeout(self.remaining(self.config.connect_timeout + self.config.read_timeout)):
                _reader, writer = await asyncio.open_connection(
                    address, self.connect_port(port), ssl=context, server_hostname=host
                )
        except TimeoutError:
            info.error, info.detail = FetchError.TIMEOUT, "no TLS handshake before the deadline"
            return info
        except ssl.SSLError as exc:
            info.error, info.detail = FetchError.TLS, exc.reason or _first_line(str(exc))
            return info
        except OSError as exc:
            info.error, info.detail = FetchError.CONNECT, exc.strerror or type(exc).__name__
            return info
        try:
            sslobj = writer.get_extra_info("ssl_object")
            info.protocol = sslobj.version() or ""
            info.cipher = (sslobj.cipher() or ("",))[0]
            info.chain_der = _presented_chain(sslobj)
        finally:
            writer.close()
            with contextlib.suppress(TimeoutError, OSError, ssl.SSLError):
                await asyncio.wait_for(writer.wait_closed(), 1)
        return info

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    async def __aenter__(self) -> Net:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


# --- helpers ---------------------------------------------------------------------------------------


async def _share(futures: dict[Any, asyncio.Future[Any]], key: Any, make: Any) -> Any:
    """Await the one run of `make()` for this key, starting it if it is the first ask.

    The work runs as its own task so that a caller that gives up (a check cut off by its time limit)
    cancels only its own wait, never the answer that other callers are waiting for. A run that
    failed is forgotten, so that the next ask tries again.
    """
    task = futures.get(key)
    if task is None:
        task = asyncio.ensure_future(make())
        futures[key] = task

        def forget_failure(done: asyncio.Future[Any]) -> None:
            if (done.cancelled() or done.exception() is not None) and futures.get(key) is done:
                del futures[key]

        task.add_done_callback(forget_failure)
    return await asyncio.shield(task)


async def _read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        remaining = limit - size
        if len(chunk) > remaining:  # a body of exactly `limit` bytes is whole, not truncated
            chunks.append(chunk[:remaining])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


def _no_cookies() -> http.cookiejar.CookieJar:
    """A jar that keeps nothing: a request carries the cookies its caller sends, never ones an earlier answer
    set on the same client (a journey keeps its own jar, with the browser's rules, and two journeys on one
    Net must not share a session)."""
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _timed(hop: Hop, started: float) -> Hop:
    hop.elapsed_ms = (time.monotonic() - started) * 1000
    return hop


_LABEL = re.compile(r"[a-z0-9_-]{1,63}")


def _wire_host(host: str) -> str:
    """The host as DNS, SNI and the Host header carry it (IDNA for international names); "" when the
    text cannot be a host name at all (spaces, empty or overlong labels)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        ascii_host = host if host.isascii() else idna.encode(host, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError is one
        return ""
    ascii_host = ascii_host.lower()
    labels = ascii_host.removesuffix(".").split(".")
    if len(ascii_host) > 254 or not all(_LABEL.fullmatch(label) for label in labels):
        return ""
    return ascii_host


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""


def _value(rdata: Any) -> str:
    if rdata.rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode("utf-8", errors="replace")
    return str(rdata.to_text()).rstrip(".") if rdata.rdtype in _NAME_TYPES else str(rdata.to_text())


_NAME_TYPES = {dns.rdatatype.CNAME, dns.rdatatype.NS, dns.rdatatype.PTR}


def _cnames(response: dns.message.Message | None) -> tuple[DnsRecord, ...]:
    if response is None:
        return ()
    return tuple(
        DnsRecord(rrset.name.to_text(omit_final_dot=True), "CNAME", rrset.ttl, rd.target.to_text(omit_final_dot=True))
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.CNAME
        for rd in rrset
    )


def _make_resolver(config: NetConfig) -> dns.asyncresolver.Resolver:
    if config.resolvers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in config.resolvers]
    else:
        resolver = dns.asyncresolver.Resolver(configure=True)
    resolver.timeout = config.dns_timeout
    resolver.lifetime = config.dns_lifetime
    resolver.retry_servfail = False
    resolver.cache = None
    return resolver


@cache
def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The verifying context: public roots, plus the extra CA bundle when one is configured."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


@cache
def _insecure_context() -> ssl.SSLContext:
    """Built once per process: loading the default roots takes about 20 ms, and a context serves any
    number of connections."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@cache
def _inspection_context(max_version: ssl.TLSVersion | None) -> ssl.SSLContext:
    """One per protocol ceiling, built once per process (it keeps no state of a connection's)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    # Low security level so that old protocols and weak keys can be seen and reported, never trusted.
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    if max_version is not None:
        context.maximum_version = max_version
    return context


def _presented_chain(sslobj: Any) -> list[bytes]:
    inner = getattr(sslobj, "_sslobj", None)
    getter = getattr(inner, "get_unverified_chain", None)
    if getter is not None:
        try:
            return [cert.public_bytes(ssl._ssl.ENCODING_DER) for cert in getter() or []]  # type: ignore[attr-defined]
        except (AttributeError, ValueError):
            pass
    leaf = sslobj.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def current_config() -> NetConfig:
    """The configuration from the environment (read each time, so tests and the sandbox can change it)."""
    return NetConfig.from_env()
