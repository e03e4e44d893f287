"""The network door: the SSRF guard, hostile DNS and hostile web servers, all met on the loopback sandbox."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import pytest
from cryptography import x509

from launchready.net import (
    DnsAnswer,
    DnsStatus,
    FetchError,
    FetchResult,
    Net,
    NetConfig,
    NetConfigError,
    TlsInfo,
    address_refusal,
    parse_port_map,
    parse_resolvers,
)
from launchready.sandbox.ca import CertKind
from launchready.sandbox.dns_server import ZoneData
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.saas_app import ACCOUNT_EMAIL, ACCOUNT_PASSWORD, SaasApp
from launchready.sandbox.web import Page, Site, WebSandbox
from launchready.timing import RETAKES, timed

T = TypeVar("T")

FRONT = "127.0.99.1"  # the front site; the guard tests let it stand in for a public web server
INSIDE = "127.0.99.4"  # a site on the "internal network" that the guard must keep out of reach
EXPIRED = "127.0.99.2"
JUNK_TLS = "127.0.99.3"
PUBLIC = "93.184.216.34"
BIG_TXT = "".join(f"{i:04d}" for i in range(1024))  # 4 KB, every part different so a lost piece shows
CHAIN = 30


def _front_pages() -> dict[str, Page]:
    pages = {
        "/": Page(body="hello from the front", headers=[("X-Served-By", "front")]),
        "/loop/a": Page(location="/loop/b"),
        "/loop/b": Page(location="/loop/a"),
        "/form": Page(status=303, location="/thanks"),
        "/prg": Page(status=303, location="/prg"),
        "/temporary": Page(status=307, location="/thanks"),
        "/thanks": Page(body="thanks"),
        "/slow-ish": Page(body="in a while", delay=0.3),
        "/hang": Page(hang=True),
        "/drip": Page(body="x" * 60, drip=1.0),
        "/huge": Page(size=100 * 1024 * 1024),
        "/exact": Page(body=b"y" * 1000, headers=[("Content-Type", "application/octet-stream")]),
        "/bad-header": Page(bad_header=True),
        "/garbage": Page(garbage=True),
        "/to-metadata": Page(location="http://metadata.net.test/latest/meta-data/"),
        "/to-loopback": Page(location="http://127.0.0.1/"),
        "/to-mapped": Page(location="http://[::ffff:127.0.0.1]/"),
        "/to-inside": Page(location="http://inside.net.test/admin"),
    }
    pages.update({f"/chain/{i}": Page(location=f"/chain/{i + 1}") for i in range(CHAIN)})
    pages[f"/chain/{CHAIN}"] = Page(body="end of the chain")
    return pages


def _zone() -> ZoneData:
    zone = ZoneData()
    for name, address in [
        ("front.net.test", FRONT),
        ("xn--bcher-kva.net.test", FRONT),  # bücher.net.test
        ("inside.net.test", INSIDE),
        ("expired.net.test", EXPIRED),
        ("junk.net.test", JUNK_TLS),
        ("metadata.net.test", "169.254.169.254"),
        ("public.net.test", PUBLIC),
        ("mixed.net.test", PUBLIC),
        ("mixed.net.test", INSIDE),
        ("slow.net.test", FRONT),
    ]:
        zone.add(name, "A", address)
    zone.add("public.net.test", "AAAA", "2606:4700::1")
    zone.add("v6loop.net.test", "AAAA", "::1")
    zone.add("big.net.test", "TXT", BIG_TXT)
    zone.add("loop-a.net.test", "CNAME", "loop-b.net.test")
    zone.add("loop-b.net.test", "CNAME", "loop-a.net.test")
    zone.behave("silent.net.test", timeout=True)
    zone.behave("broken.net.test", servfail=True)
    zone.behave("slow.net.test", delay=0.3)
    return zone


def _sites() -> list[Site]:
    return [
        Site(["front.net.test", "xn--bcher-kva.net.test"], FRONT, pages=_front_pages(), http_redirect=None),
        Site(
            ["inside.net.test"],
            INSIDE,
            pages={"*": Page(body="internal admin", headers=[("X-Served-By", "inside")])},
            http_redirect=None,
        ),
        Site(["expired.net.test"], EXPIRED, pages={"/": Page(body="stale")}, cert=CertKind.EXPIRED),
        Site(["junk.net.test"], JUNK_TLS, tls_garbage=True),
    ]


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(_zone(), web=WebSandbox(_sites())) as sandbox:
        yield sandbox


def _config(sb: Sandbox, **limits: Any) -> NetConfig:
    """The sandbox's settings (private targets allowed, as the sandbox needs) with shorter limits."""
    return dataclasses.replace(sb.net_config(), **limits)


def _guarded(sb: Sandbox, **limits: Any) -> NetConfig:
    """The sandbox's settings with the SSRF guard on, as in production."""
    return _config(sb, allow_private_targets=False, **limits)


class FrontIsPublicNet(Net):
    """The guard as production runs it, except that the front site stands in for a public web server.

    Every sandbox site lives on loopback, so a redirect *from* a public site can only be shown this way.
    """

    def refusal(self, address: str) -> str | None:
        return None if address == FRONT else super().refusal(address)


def _with_net(
    config: NetConfig, work: Callable[[Net], Awaitable[T]], *, net_class: type[Net] = Net, deadline: float | None = None
) -> T:
    async def main() -> T:
        async with net_class(config, deadline=deadline) as net:
            return await work(net)

    return asyncio.run(main())


def _fetch(config: NetConfig, url: str, *, net_class: type[Net] = Net, **kwargs: Any) -> FetchResult:
    return _with_net(config, lambda net: net.fetch(url, **kwargs), net_class=net_class)


def _dns(config: NetConfig, name: str, rdtype: str = "A") -> DnsAnswer:
    return _with_net(config, lambda net: net.dns(name, rdtype))


def _tls(config: NetConfig, host: str) -> TlsInfo:
    return _with_net(config, lambda net: net.tls(host))


# --- The SSRF guard --------------------------------------------------------------------------------


# One row per block of the IANA IPv4 and IPv6 Special-Purpose Address Registries (plus the blocks the
# address-space registries mark reserved or deprecated, and the IPv6 forms that carry an IPv4 address):
# the address tried, and the reason the guard must give (None: it must let the address through). Each
# id says what the block is and why it is decided so.
GUARD_TABLE = [
    # IPv4 Special-Purpose Address Registry
    pytest.param("0.0.0.0", "an unspecified address", id="0.0.0.0/32 this host: refused"),  # noqa: S104
    pytest.param("0.1.2.3", "a 'this network' address", id="0.0.0.0/8 this network: refused"),
    pytest.param("10.1.2.3", "a private address", id="10.0.0.0/8 private-use: refused"),
    pytest.param("100.64.0.1", "a shared (carrier-grade NAT) address", id="100.64.0.0/10 shared: refused"),
    pytest.param("100.127.255.254", "a shared (carrier-grade NAT)", id="100.64.0.0/10 last: refused"),
    pytest.param("127.0.0.1", "a loopback address", id="127.0.0.0/8 loopback: refused"),
    pytest.param("127.255.255.254", "a loopback address", id="127.0.0.0/8 loopback, last: refused"),
    pytest.param("169.254.169.254", "a link-local address", id="169.254.0.0/16 link-local, metadata: refused"),
    pytest.param("172.16.0.1", "a private address", id="172.16.0.0/12 private-use: refused"),
    pytest.param("172.31.255.254", "a private address", id="172.16.0.0/12 private-use, last: refused"),
    pytest.param("192.0.0.1", "an IETF protocol address", id="192.0.0.0/24 IETF protocol assignments: refused"),
    pytest.param("192.0.0.5", "an IETF protocol address", id="192.0.0.0/29 DS-Lite: refused"),
    pytest.param("192.0.0.8", "an IETF protocol address", id="192.0.0.8/32 dummy: refused"),
    pytest.param("192.0.0.9", None, id="192.0.0.9/32 PCP anycast, globally reachable: allowed"),
    pytest.param("192.0.0.10", None, id="192.0.0.10/32 TURN anycast, globally reachable: allowed"),
    pytest.param("192.0.0.170", "an IETF protocol address", id="192.0.0.170/32 NAT64 discovery: refused"),
    pytest.param("192.0.0.171", "an IETF protocol address", id="192.0.0.171/32 DNS64 discovery: refused"),
    pytest.param("192.0.2.1", "a documentation address", id="192.0.2.0/24 TEST-NET-1: refused"),
    pytest.param("192.31.196.1", None, id="192.31.196.0/24 AS112-v4, globally reachable: allowed"),
    pytest.param("192.52.193.1", None, id="192.52.193.0/24 AMT, globally reachable: allowed"),
    pytest.param(
        "192.88.99.1", "a deprecated 6to4 relay", id="192.88.99.0/24 deprecated 6to4 relay, never a web host: refused"
    ),
    pytest.param("192.88.99.2", None, id="192.88.99.2/32 6a44 relay, marked globally reachable: allowed"),
    pytest.param("192.168.1.1", "a private address", id="192.168.0.0/16 private-use: refused"),
    pytest.param("192.175.48.1", None, id="192.175.48.0/24 AS112 direct delegation, globally reachable: allowed"),
    pytest.param("198.18.0.1", "a benchmarking address", id="198.18.0.0/15 benchmarking: refused"),
    pytest.param("198.19.255.254", "a benchmarking address", id="198.18.0.0/15 benchmarking, last: refused"),
    pytest.param("198.51.100.7", "a documentation address", id="198.51.100.0/24 TEST-NET-2: refused"),
    pytest.param("203.0.113.7", "a documentation address", id="203.0.113.0/24 TEST-NET-3: refused"),
    pytest.param("240.0.0.1", "a reserved address", id="240.0.0.0/4 reserved: refused"),
    pytest.param("255.255.255.255", "a broadcast address", id="255.255.255.255/32 limited broadcast: refused"),
    pytest.param("224.0.0.1", "a multicast address", id="224.0.0.0/4 multicast (own registry): refused"),
    # IPv6 Special-Purpose Address Registry
    pytest.param("::", "an unspecified address", id="::/128 unspecified: refused"),
    pytest.param("::1", "a loopback address", id="::1/128 loopback: refused"),
    pytest.param("::ffff:8.8.8.8", "an IPv4-mapped address", id="::ffff:0:0/96 IPv4-mapped, not global: refused"),
    pytest.param("::8.8.8.8", "a reserved address", id="::/96 deprecated IPv4-compatible: refused"),
    pytest.param("64:ff9b::808:808", None, id="64:ff9b::/96 NAT64 of a public address, globally reachable: allowed"),
    pytest.param("64:ff9b:1::1", "a local-use NAT64 address", id="64:ff9b:1::/48 local-use NAT64: refused"),
    pytest.param("100::1", "a discard-only address", id="100::/64 discard-only: refused"),
    pytest.param("100:0:0:1::1", "a dummy address", id="100:0:0:1::/64 dummy prefix: refused"),
    pytest.param("2001:5::1", "an IETF protocol address", id="2001::/23 IETF protocol assignments: refused"),
    pytest.param("2001:0:4136:e378::1", "a Teredo tunnel address", id="2001::/32 Teredo, a client tunnel: refused"),
    pytest.param("2001:1::1", None, id="2001:1::1/128 PCP anycast, globally reachable: allowed"),
    pytest.param("2001:1::2", None, id="2001:1::2/128 TURN anycast, globally reachable: allowed"),
    pytest.param("2001:1::3", None, id="2001:1::3/128 DNS-SD SRP anycast, globally reachable: allowed"),
    pytest.param("2001:2::1", "a benchmarking address", id="2001:2::/48 benchmarking: refused"),
    pytest.param("2001:3::1", None, id="2001:3::/32 AMT, globally reachable: allowed"),
    pytest.param("2001:4:112::1", None, id="2001:4:112::/48 AS112-v6, globally reachable: allowed"),
    pytest.param("2001:10::1", "a deprecated ORCHID address", id="2001:10::/28 deprecated ORCHID: refused"),
    pytest.param("2001:20::1", None, id="2001:20::/28 ORCHIDv2, globally reachable: allowed"),
    pytest.param("2001:30::1", None, id="2001:30::/28 drone remote ID tags, globally reachable: allowed"),
    pytest.param("2001:db8::1", "a documentation address", id="2001:db8::/32 documentation: refused"),
    pytest.param("2002:808:808::1", None, id="2002::/16 6to4 of a public address: allowed"),
    pytest.param("2620:4f:8000::1", None, id="2620:4f:8000::/48 AS112 direct delegation, globally reachable: allowed"),
    pytest.param("3fff::1", "a documentation address", id="3fff::/20 documentation: refused"),
    pytest.param("5f00::1", "a segment-routing address", id="5f00::/16 SRv6 SIDs, not global: refused"),
    pytest.param("fc00::1", "a private (unique local) address", id="fc00::/7 unique-local: refused"),
    pytest.param("fd00:ec2::254", "a private (unique local)", id="fc00::/7 unique-local, AWS metadata: refused"),
    pytest.param("fe80::1", "a link-local address", id="fe80::/10 link-local: refused"),
    pytest.param("fe80::1%eth0", "a link-local address", id="fe80::/10 link-local with a zone: refused"),
    pytest.param("fec0::1", "a deprecated site-local address", id="fec0::/10 deprecated site-local: refused"),
    pytest.param("feff:ffff::1", "a deprecated site-local", id="fec0::/10 site-local, last: refused"),
    pytest.param("ff02::1", "a multicast address", id="ff00::/8 multicast: refused"),
    # IPv6 forms that carry an IPv4 address to a host: the IPv4 inside is judged
    pytest.param("::ffff:127.0.0.1", "an IPv4-mapped form of a loopback", id="mapped loopback: refused"),
    pytest.param("::ffff:169.254.169.254", "an IPv4-mapped form of a link-local", id="mapped metadata: refused"),
    pytest.param("::ffff:10.0.0.1", "an IPv4-mapped form of a private", id="mapped private: refused"),
    pytest.param("2002:7f00:1::", "a 6to4 form of a loopback", id="6to4 around 127.0.0.1: refused"),
    pytest.param("2002:a9fe:a9fe::", "a 6to4 form of a link-local", id="6to4 around metadata: refused"),
    pytest.param("2002:c0a8:101::1", "a 6to4 form of a private", id="6to4 around 192.168.1.1: refused"),
    pytest.param("64:ff9b::a00:1", "a NAT64 form of a private", id="NAT64 around 10.0.0.1: refused"),
    pytest.param("64:ff9b::7f00:1", "a NAT64 form of a loopback", id="NAT64 around 127.0.0.1: refused"),
    pytest.param("64:ff9b::a9fe:a9fe", "a NAT64 form of a link-local", id="NAT64 around metadata: refused"),
    # Ordinary public addresses, and text that is no address at all
    pytest.param(PUBLIC, None, id="a public IPv4 address: allowed"),
    pytest.param("8.8.8.8", None, id="8.8.8.8: allowed"),
    pytest.param("1.1.1.1", None, id="1.1.1.1: allowed"),
    pytest.param("2606:4700::1", None, id="a public IPv6 address: allowed"),
    pytest.param("2a00:1450:4001:82b::200e", None, id="another public IPv6 address: allowed"),
    pytest.param("not-an-ip", "not an IP address", id="not an address: refused"),
]


@pytest.mark.parametrize(("address", "reason"), GUARD_TABLE)
def test_the_guard_decides_every_special_purpose_block(address: str, reason: str | None) -> None:
    refusal = address_refusal(address)
    if reason is None:
        assert refusal is None
    else:
        assert refusal is not None and refusal.startswith(reason), refusal


def test_it_refuses_a_name_that_resolves_to_loopback_without_connecting(sb: Sandbox) -> None:
    before = sb.web.requests
    result = _fetch(_guarded(sb), "http://front.net.test/")
    info = _tls(_guarded(sb), "front.net.test")
    assert result.error == FetchError.REFUSED
    assert result.final.detail == f"front.net.test resolves to {FRONT}, a loopback address; refused"
    assert (len(result.hops), result.final.address, result.final.status) == (1, "", None)
    assert (info.error, info.address, info.chain_der) == (FetchError.REFUSED, "", [])
    assert sb.web.requests == before


def test_it_refuses_a_name_with_only_a_loopback_ipv6_address(sb: Sandbox) -> None:
    result = _fetch(_guarded(sb), "http://v6loop.net.test/")
    assert result.error == FetchError.REFUSED
    assert "resolves to ::1, a loopback address" in result.final.detail


def test_it_is_off_by_default_only_in_the_sandbox(sb: Sandbox) -> None:
    assert sb.net_config().allow_private_targets is True
    assert NetConfig().allow_private_targets is False
    assert _fetch(_config(sb), "http://front.net.test/").ok


def test_it_refuses_a_redirect_to_cloud_metadata_on_that_hop(sb: Sandbox) -> None:
    before = sb.web.requests
    result = _fetch(_guarded(sb), "http://front.net.test/to-metadata", net_class=FrontIsPublicNet)
    first, refused = result.hops
    assert (first.status, first.address, first.location) == (301, FRONT, "http://metadata.net.test/latest/meta-data/")
    assert (refused.url, refused.error, refused.address) == (
        "http://metadata.net.test/latest/meta-data/",
        FetchError.REFUSED,
        "",
    )
    assert "169.254.169.254, a link-local address" in refused.detail
    assert (result.ok, result.body) == (False, b"")
    assert sb.web.requests == before + 1


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/to-loopback", "127.0.0.1 resolves to 127.0.0.1, a loopback address"),
        ("/to-mapped", "an IPv4-mapped form of a loopback address"),
    ],
)
def test_it_refuses_a_redirect_to_a_literal_internal_address(sb: Sandbox, path: str, reason: str) -> None:
    before = sb.web.requests
    result = _fetch(_guarded(sb), f"http://front.net.test{path}", net_class=FrontIsPublicNet)
    assert [hop.status for hop in result.hops] == [301, None]
    assert result.error == FetchError.REFUSED
    assert reason in result.final.detail
    assert sb.web.requests == before + 1


def test_it_refuses_a_name_when_any_of_its_addresses_is_private(sb: Sandbox) -> None:
    async def work(net: Net) -> tuple[Any, ...]:
        return await net.pick_address("mixed.net.test"), await net.pick_address("public.net.test")

    mixed, public = _with_net(_guarded(sb), work)
    before = sb.web.requests
    result = _fetch(_guarded(sb), "http://mixed.net.test/")
    assert mixed == (None, FetchError.REFUSED, f"mixed.net.test resolves to {INSIDE}, a loopback address; refused")
    assert public == (PUBLIC, None, "")  # the one address checked is the one used, IPv4 first
    assert (result.error, result.final.address) == (FetchError.REFUSED, "")
    assert sb.web.requests == before


def test_it_refuses_a_redirect_to_a_second_name_that_resolves_private(sb: Sandbox) -> None:
    before = sb.web.requests
    result = _fetch(_guarded(sb), "http://front.net.test/to-inside", net_class=FrontIsPublicNet)
    assert [(hop.status, hop.address, hop.error) for hop in result.hops] == [
        (301, FRONT, None),
        (None, "", FetchError.REFUSED),
    ]
    assert result.final.detail == f"inside.net.test resolves to {INSIDE}, a loopback address; refused"
    assert sb.web.requests == before + 1  # the inside site was never asked


def test_it_connects_to_the_address_it_resolved_itself(sb: Sandbox) -> None:
    # front.net.test exists only in the sandbox's DNS: reaching it proves the connection went to the
    # address this module resolved (and checked), not to whatever the system resolver would say.
    result = _fetch(_config(sb), "http://front.net.test/")
    assert (result.ok, result.final.address, result.text) == (True, FRONT, "hello from the front")
    assert result.final.header("x-served-by") == "front"


# --- Hostile DNS -----------------------------------------------------------------------------------


def test_it_reads_a_4_kb_txt_record_whole_over_tcp(sb: Sandbox) -> None:
    before = sb.dns.queries
    answer = _dns(_config(sb), "big.net.test", "TXT")
    assert answer.status == DnsStatus.OK
    assert answer.values == [BIG_TXT]
    assert sb.dns.queries == before + 2  # truncated over UDP, then asked again over TCP


def test_it_gives_up_on_a_silent_server_within_the_lifetime(sb: Sandbox) -> None:
    started = time.monotonic()
    answer = _dns(_config(sb, dns_lifetime=1.0), "silent.net.test")
    assert answer.status == DnsStatus.TIMEOUT
    assert answer.is_failure and not answer.is_void
    assert "1.0 s" in answer.error
    assert time.monotonic() - started < 1.0 + 3  # a hang guard, not a speed test


def test_it_tells_a_failing_server_from_a_missing_name(sb: Sandbox) -> None:
    broken = _dns(_config(sb), "broken.net.test")
    missing = _dns(_config(sb), "missing.net.test")
    assert (broken.status, broken.is_failure, broken.is_void) == (DnsStatus.SERVFAIL, True, False)
    assert (missing.status, missing.is_failure, missing.is_void) == (DnsStatus.NXDOMAIN, False, True)


def test_it_tells_a_missing_name_from_a_missing_record(sb: Sandbox) -> None:
    no_name = _dns(_config(sb), "missing.net.test", "MX")
    no_record = _dns(_config(sb), "front.net.test", "MX")
    assert (no_name.status, no_record.status) == (DnsStatus.NXDOMAIN, DnsStatus.NODATA)
    assert no_name.is_void and no_record.is_void


def test_it_ends_a_cname_loop_as_a_failure(sb: Sandbox) -> None:
    started = time.monotonic()
    answer = _dns(_config(sb, dns_lifetime=2.0), "loop-a.net.test")
    assert answer.is_failure
    assert answer.records == ()
    assert time.monotonic() - started < 2.0 + 3


@pytest.mark.parametrize("name", ["a" * 64 + ".net.test", "a..net.test", ".net.test"])
def test_it_calls_a_malformed_name_invalid_without_asking(sb: Sandbox, name: str) -> None:
    before = sb.dns.queries
    answer = _dns(_config(sb), name)
    assert answer.status == DnsStatus.INVALID
    assert answer.error
    assert sb.dns.queries == before


def test_it_stops_asking_once_the_query_budget_is_spent(sb: Sandbox) -> None:
    async def work(net: Net) -> list[DnsAnswer]:
        asked = [await net.dns("front.net.test", rdtype) for rdtype in ("A", "AAAA", "TXT", "MX")]
        return [*asked, await net.dns("front.net.test", "A")]

    before = sb.dns.queries
    a, aaaa, txt, mx, a_again = _with_net(_config(sb, max_dns_queries=3), work)
    assert [a.status, aaaa.status, txt.status] == [DnsStatus.OK, DnsStatus.NODATA, DnsStatus.NODATA]
    assert (mx.status, mx.is_failure) == (DnsStatus.LIMIT, True)
    assert a_again == a  # what was already known is still known
    assert sb.dns.queries == before + 3


def test_it_answers_a_repeated_question_from_its_cache(sb: Sandbox) -> None:
    async def work(net: Net) -> tuple[list[DnsAnswer], int]:
        answers = [await net.dns(name, "a") for name in ("front.net.test", "FRONT.net.test.", "front.net.test")]
        return answers, net.dns_queries

    before = sb.dns.queries
    answers, asked = _with_net(_config(sb), work)
    assert [answer.values for answer in answers] == [[FRONT]] * 3
    assert asked == 1
    assert sb.dns.queries == before + 1


def test_it_keeps_a_shared_answer_for_the_others_when_one_asker_gives_up(sb: Sandbox) -> None:
    async def work(net: Net) -> tuple[bool, DnsAnswer]:
        impatient = asyncio.ensure_future(net.dns("slow.net.test", "A"))
        patient = asyncio.ensure_future(net.dns("slow.net.test", "A"))
        await asyncio.sleep(0)  # both are now waiting on the one question
        impatient.cancel()
        answer = await patient
        return impatient.cancelled(), answer

    cancelled, answer = _with_net(_config(sb), work)
    assert cancelled
    assert (answer.status, answer.values) == (DnsStatus.OK, [FRONT])


def test_it_stops_asking_once_the_deadline_passed(sb: Sandbox) -> None:
    async def work(net: Net) -> dict[str, Any]:
        seen = {"start": net.remaining(100), "first": await net.dns("silent.net.test", "A")}
        seen["asked"], seen["expired"] = net.dns_queries, net.expired
        seen["later"] = [await net.dns("silent.net.test", "AAAA"), await net.dns("front.net.test", "A")]
        seen["fetch"] = await net.fetch("http://front.net.test/")
        seen["asked_after"], seen["end"] = net.dns_queries, net.remaining(100)
        return seen

    before = sb.web.requests
    seen = _with_net(_config(sb), work, deadline=1.5)
    assert seen["start"] <= 1.5
    assert seen["first"].status == DnsStatus.TIMEOUT
    assert seen["expired"]
    assert [answer.status for answer in seen["later"]] == [DnsStatus.TIMEOUT, DnsStatus.TIMEOUT]
    assert all(answer.error == "the audit's deadline passed" for answer in seen["later"])
    assert seen["asked_after"] == seen["asked"]  # nothing more was asked
    assert (seen["fetch"].error, sb.web.requests) == (FetchError.DNS, before)
    assert seen["end"] <= 1.5


# --- Hostile web servers ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/hang", "/drip"])
def test_it_gives_up_on_a_server_that_does_not_finish(sb: Sandbox, path: str) -> None:
    started = time.monotonic()
    result = _fetch(_config(sb, request_deadline=1.5), f"http://front.net.test{path}")
    assert result.error == FetchError.TIMEOUT
    assert not result.ok and result.body == b""
    assert time.monotonic() - started < 1.5 + 3  # a hang guard, not a speed test


def test_it_caps_a_100_mb_body(sb: Sandbox) -> None:
    started = time.monotonic()
    result = _fetch(_config(sb, max_body_bytes=256 * 1024, request_deadline=10), "http://front.net.test/huge")
    assert result.ok
    assert (len(result.body), result.truncated) == (256 * 1024, True)
    assert result.final.header("content-length") == str(100 * 1024 * 1024)
    assert time.monotonic() - started < 10  # well before the deadline: it stopped reading


def test_it_does_not_call_a_body_of_exactly_the_cap_truncated(sb: Sandbox) -> None:
    whole = _fetch(_config(sb), "http://front.net.test/exact", max_bytes=1000)
    cut = _fetch(_config(sb), "http://front.net.test/exact", max_bytes=999)
    assert (whole.body, whole.truncated) == (b"y" * 1000, False)
    assert (cut.body, cut.truncated) == (b"y" * 999, True)


def test_it_stops_after_too_many_redirects(sb: Sandbox) -> None:
    before = sb.web.requests
    result = _fetch(_config(sb, max_redirects=10), "http://front.net.test/chain/0")
    assert [hop.status for hop in result.hops] == [301] * 11 + [None]
    assert result.error == FetchError.TOO_MANY_REDIRECTS
    assert result.final.url == "http://front.net.test/chain/11"
    assert result.final.detail == "more than 10 redirects"
    assert sb.web.requests == before + 11


def test_it_follows_a_long_chain_when_the_limit_allows(sb: Sandbox) -> None:
    result = _fetch(_config(sb), "http://front.net.test/chain/0", max_redirects=CHAIN)
    assert result.ok
    assert (len(result.hops), result.text) == (CHAIN + 1, "end of the chain")


def test_it_detects_a_redirect_loop(sb: Sandbox) -> None:
    result = _fetch(_config(sb), "http://front.net.test/loop/a")
    assert [(hop.url, hop.status) for hop in result.hops] == [
        ("http://front.net.test/loop/a", 301),
        ("http://front.net.test/loop/b", 301),
        ("http://front.net.test/loop/a", None),
    ]
    assert result.error == FetchError.REDIRECT_LOOP


@pytest.mark.parametrize("path", ["/bad-header", "/garbage"])
def test_it_calls_an_answer_that_is_not_http_a_protocol_error(sb: Sandbox, path: str) -> None:
    result = _fetch(_config(sb), f"http://front.net.test{path}")
    assert result.error == FetchError.PROTOCOL
    assert result.final.detail
    assert result.final.address == FRONT


def test_it_reports_a_tls_handshake_answered_with_garbage(sb: Sandbox) -> None:
    result = _fetch(_config(sb), "https://junk.net.test/")
    info = _tls(_config(sb), "junk.net.test")
    assert (result.error, result.final.status) == (FetchError.TLS, None)
    assert (info.error, info.ok, info.chain_der) == (FetchError.TLS, False, [])
    assert info.detail


def test_it_refuses_an_expired_certificate_but_still_reads_its_chain(sb: Sandbox) -> None:
    result = _fetch(_config(sb), "https://expired.net.test/")
    info = _tls(_config(sb), "expired.net.test")
    unverified = _fetch(_config(sb), "https://expired.net.test/", verify=False)
    assert result.error == FetchError.TLS
    assert "expired" in result.final.detail
    assert (info.ok, info.address, len(info.chain_der)) == (True, EXPIRED, 2)
    leaf = x509.load_der_x509_certificate(info.chain_der[0])
    assert leaf.not_valid_after_utc < dt.datetime.now(dt.UTC)
    assert (unverified.ok, unverified.text) == (True, "stale")


def test_it_fetches_over_https_trusting_the_configured_ca(sb: Sandbox) -> None:
    result = _fetch(_config(sb), "https://front.net.test/")
    info = _tls(_config(sb), "front.net.test")
    assert (result.ok, result.final.address, result.text) == (True, FRONT, "hello from the front")
    assert info.ok and info.protocol.startswith("TLSv1.")
    names = x509.load_der_x509_certificate(info.chain_der[0]).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert "front.net.test" in names.value.get_values_for_type(x509.DNSName)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://front.net.test/",
        "http://exa mple/",
        "http://front.net.test:99999/",
        "http://front.net.test:0/",
        "http:///no-host",
        "front.net.test/no-scheme",
        "http://a..net.test/",
    ],
)
def test_it_refuses_a_bad_url_without_touching_the_network(sb: Sandbox, url: str) -> None:
    queries, requests = sb.dns.queries, sb.web.requests
    result = _fetch(_config(sb), url)
    assert (result.error, len(result.hops)) == (FetchError.BAD_URL, 1)
    assert (sb.dns.queries, sb.web.requests) == (queries, requests)


def test_it_fetches_an_international_name_by_its_ascii_form(sb: Sandbox) -> None:
    result = _fetch(_config(sb), "http://bücher.net.test/")
    assert (result.ok, result.final.address, result.text) == (True, FRONT, "hello from the front")


def test_it_sends_head_and_post(sb: Sandbox) -> None:
    head = _fetch(_config(sb), "http://front.net.test/", method="HEAD")
    post = _fetch(_config(sb), "http://front.net.test/thanks", method="POST", content=b"a=1")
    assert (head.final.method, head.final.status, head.body) == ("HEAD", 200, b"")
    assert head.final.header("x-served-by") == "front"
    assert (post.final.method, post.final.status, post.text) == ("POST", 200, "thanks")


def test_it_turns_a_post_into_a_get_after_a_303_but_not_after_a_307(sb: Sandbox) -> None:
    see_other = _fetch(_config(sb), "http://front.net.test/form", method="POST", content=b"a=1")
    temporary = _fetch(_config(sb), "http://front.net.test/temporary", method="POST", content=b"a=1")
    assert [(hop.method, hop.status) for hop in see_other.hops] == [("POST", 303), ("GET", 200)]
    assert see_other.text == "thanks"
    assert [(hop.method, hop.status) for hop in temporary.hops] == [("POST", 307), ("POST", 200)]


def test_it_keeps_head_across_a_303(sb: Sandbox) -> None:
    result = _fetch(_config(sb), "http://front.net.test/form", method="HEAD")
    assert [(hop.method, hop.status) for hop in result.hops] == [("HEAD", 303), ("HEAD", 200)]
    assert result.body == b""


def test_it_follows_post_redirect_get_to_the_same_address(sb: Sandbox) -> None:
    # The sandbox answers every method alike, so the GET is sent 303 again: that second time is the loop.
    result = _fetch(_config(sb), "http://front.net.test/prg", method="POST", content=b"a=1")
    assert [(hop.method, hop.status, hop.error) for hop in result.hops] == [
        ("POST", 303, None),
        ("GET", 303, None),
        ("GET", None, FetchError.REDIRECT_LOOP),
    ]


def test_it_records_every_hop_with_its_status_address_and_headers(sb: Sandbox) -> None:
    result = _fetch(_config(sb), "http://front.net.test/to-inside")
    first, last = result.hops
    assert (first.url, first.status, first.address) == ("http://front.net.test/to-inside", 301, FRONT)
    assert first.header("location") == first.location == "http://inside.net.test/admin"
    assert first.header_all("connection") == ["keep-alive"]
    assert (last.url, last.status, last.address) == ("http://inside.net.test/admin", 200, INSIDE)
    assert last.header("X-Served-By") == "inside"
    assert last.http_version == "HTTP/1.1"
    assert result.text == "internal admin"


def test_it_fetches_a_shared_page_once(sb: Sandbox) -> None:
    async def work(net: Net) -> list[FetchResult]:
        return list(await asyncio.gather(*(net.page("http://front.net.test/") for _ in range(3))))

    before = sb.web.requests
    results = _with_net(_config(sb), work)
    assert [result.text for result in results] == ["hello from the front"] * 3
    assert sb.web.requests == before + 1


# --- Timing in the timing process ------------------------------------------------------------------


def test_timed_samples_are_taken_one_after_another_on_one_kept_alive_connection(sb: Sandbox) -> None:
    async def work(net: Net) -> list[FetchResult]:
        return await timed(net, "https://front.net.test/", count=5)

    requests, connections = sb.web.requests, sb.web.connections
    results = _with_net(_config(sb), work)
    assert [result.final.status for result in results] == [200] * 5
    # A sample the timing process could not time well (busy with its own start, say) is taken again.
    assert 5 <= sb.web.requests - requests <= 5 * (1 + RETAKES)
    assert sb.web.connections - connections == 1
    assert all(result.final.elapsed_ms >= result.final.ttfb_ms > 0 for result in results)


def test_a_timed_post_carries_its_headers_and_body_and_is_sent_once(sb: Sandbox) -> None:
    """A webhook's event, timed: POSTed as given, not followed, and with no budget never taken again."""
    event = b'{"type": "probe", "note": "caf\xc3\xa9"}'

    async def work(net: Net) -> list[FetchResult]:
        headers = {"Content-Type": "application/json"}
        url = "https://front.net.test/form"
        return await timed(net, url, count=1, method="POST", headers=headers, content=event, follow_redirects=False)

    requests, received = sb.web.requests, len(sb.web.received)
    (result,) = _with_net(_config(sb), work)
    assert result.final.status == 303 and result.final.location == "/thanks" and len(result.hops) == 1
    assert sb.web.requests - requests == 1
    (post,) = sb.web.received[received:]
    assert post["method"] == "POST" and post["body"] == event
    assert post["headers"]["content-type"] == "application/json"  # type: ignore[index]


def test_timed_samples_stop_at_the_first_failure(sb: Sandbox) -> None:
    results = _with_net(_config(sb), lambda net: timed(net, "https://front.net.test/garbage", count=5))
    assert [result.error for result in results] == [FetchError.PROTOCOL]


def test_a_busy_event_loop_does_not_count_in_timed_samples(sb: Sandbox) -> None:
    """The audit's own loop is blocked for two seconds while the requests are in flight: a request timed
    on that loop counts them, the timing process's samples do not."""
    stall = 2.0

    async def work(net: Net) -> tuple[FetchResult, list[FetchResult]]:
        async def block_the_loop() -> None:
            await asyncio.sleep(0.15)  # the requests are on their way (the server answers after 0.3 s)
            time.sleep(stall)  # the point: this loop does nothing else for a second

        plain, samples, _ = await asyncio.gather(
            net.fetch("https://front.net.test/slow-ish"),
            timed(net, "https://front.net.test/slow-ish", count=3),
            block_the_loop(),
        )
        return plain, samples

    plain, samples = _with_net(_config(sb), work)
    assert plain.ok and all(sample.ok for sample in samples) and len(samples) == 3
    assert plain.final.elapsed_ms >= stall * 1000
    assert sum(sample.final.elapsed_ms for sample in samples) < stall * 1000


# --- Configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "servers"),
    [
        ("127.0.0.1:5353", (("127.0.0.1", 5353),)),
        ("[::1]:5353", (("::1", 5353),)),
        ("10.0.0.53", (("10.0.0.53", 53),)),
        ("[::1]", (("::1", 53),)),
        ("::1", (("::1", 53),)),
        (" 1.1.1.1:53 , 8.8.8.8 ,", (("1.1.1.1", 53), ("8.8.8.8", 53))),
        ("", ()),
    ],
)
def test_it_parses_resolvers(text: str, servers: tuple[tuple[str, int], ...]) -> None:
    assert parse_resolvers(text) == servers


@pytest.mark.parametrize("text", ["dns.example:53", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:x", "1.2.3.4:", "[::1]:x"])
def test_it_names_the_variable_when_a_resolver_is_malformed(text: str) -> None:
    with pytest.raises(NetConfigError, match="LAUNCHREADY_RESOLVER"):
        parse_resolvers(text)


def test_it_parses_a_port_map() -> None:
    assert parse_port_map("80:18080, 443:18443") == {80: 18080, 443: 18443}
    assert parse_port_map("") == {}


@pytest.mark.parametrize("text", ["80", "80:x", "80:18080:1", "0:80", "80:70000", "http:80"])
def test_it_names_the_variable_when_the_port_map_is_malformed(text: str) -> None:
    with pytest.raises(NetConfigError, match="LAUNCHREADY_PORT_MAP"):
        parse_port_map(text)


def test_it_names_the_variable_when_the_ca_bundle_is_missing(tmp_path: Path) -> None:
    with pytest.raises(NetConfigError, match="LAUNCHREADY_CA_BUNDLE"):
        NetConfig.from_env({"LAUNCHREADY_CA_BUNDLE": str(tmp_path / "missing.pem")})


def test_it_reads_the_sandbox_settings(sb: Sandbox) -> None:
    config = NetConfig.from_env(sb.env())
    assert config.resolvers == (("127.0.0.1", sb.dns.port),)
    assert config.port_map == {53: sb.dns.port, 80: sb.web.http_port, 443: sb.web.https_port}
    assert config.ca_bundle == str(sb.web.ca.bundle_path)
    assert config.allow_private_targets


def test_it_keeps_private_targets_refused_by_default() -> None:
    config = NetConfig.from_env({})
    assert (config.resolvers, config.port_map, config.ca_bundle) == ((), {}, None)
    assert config.allow_private_targets is False


@pytest.mark.parametrize(
    ("value", "allowed"), [("1", True), ("true", True), (" On ", True), ("0", False), ("no", False)]
)
def test_it_reads_the_private_targets_switch(value: str, allowed: bool) -> None:
    assert NetConfig.from_env({"LAUNCHREADY_ALLOW_PRIVATE_TARGETS": value}).allow_private_targets is allowed


def test_it_asks_one_nameserver_directly_through_the_port_map(sb: Sandbox) -> None:
    async def ask() -> tuple[DnsAnswer, DnsAnswer]:
        async with Net(dataclasses.replace(sb.net_config(), dns_timeout=1.0)) as net:
            return await asyncio.gather(
                net.dns_at("127.0.0.53", "front.net.test", "A"), net.dns_at("127.0.0.59", "example.test", "NS")
            )

    answered, silent = asyncio.run(ask())
    assert answered.ok and answered.values
    assert silent.status == DnsStatus.TIMEOUT


def test_it_refuses_to_ask_a_nameserver_at_a_private_address_and_says_so(sb: Sandbox) -> None:
    async def ask() -> DnsAnswer:
        async with Net(_guarded(sb)) as net:
            return await net.dns_at("127.0.0.53", "front.net.test", "A")

    refused = asyncio.run(ask())
    assert (refused.status, refused.is_failure) == (DnsStatus.REFUSED, True)
    assert refused.error == "127.0.0.53 is a loopback address; not asked"


def _counted_starts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one each time a timing process is started."""
    from launchready import timing

    starts: list[int] = []
    original = timing.TimingProcess.__init__

    def counted(self: timing.TimingProcess) -> None:
        starts.append(1)
        original(self)

    monkeypatch.setattr(timing.TimingProcess, "__init__", counted)
    return starts


def test_a_timing_process_that_will_not_start_leaves_routes_untimed_with_one_log_line(
    sb: Sandbox, fresh_timer: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from launchready import timing

    monkeypatch.setattr(timing.sys, "executable", "/bin/false")
    starts = _counted_starts(monkeypatch)

    async def work(net: Net) -> list[list[FetchResult]]:
        return [await timed(net, "https://front.net.test/", count=3) for _ in range(3)]

    assert _with_net(_config(sb), work) == [[], [], []]
    assert len(starts) == 1  # not tried again at once
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "judged without speed samples" in warnings[0]


def test_a_timing_process_that_closes_its_output_before_it_ends_counts_as_not_started(
    sb: Sandbox, fresh_timer: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """The child's output can reach its end before the child can be reaped: that is a child that did not
    start, not one to wait on for an answer."""
    from launchready import timing

    lingering = tmp_path / "lingering"
    lingering.write_text("#!/bin/sh\nexec >&-\nsleep 3\n")
    lingering.chmod(0o755)
    monkeypatch.setattr(timing.sys, "executable", str(lingering))
    starts = _counted_starts(monkeypatch)

    async def work(net: Net) -> list[list[FetchResult]]:
        return [await timed(net, "https://front.net.test/", count=3) for _ in range(3)]

    assert _with_net(_config(sb), work) == [[], [], []]
    assert len(starts) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "did not start" in warnings[0]


def test_a_stopped_timing_process_costs_a_bounded_wait_not_a_hang(sb: Sandbox, fresh_timer: None) -> None:
    import os
    import signal

    from launchready import timing

    assert len(_with_net(_config(sb), lambda net: timed(net, "https://front.net.test/", count=1))) == 1
    child = timing.TimingProcess.child_pid()
    assert child is not None
    os.kill(child, signal.SIGSTOP)
    try:
        # Far more requests than a pipe holds, with the child reading none of them.
        async def many(net: Net) -> list[list[FetchResult]]:
            return list(await asyncio.gather(*(timed(net, "https://front.net.test/", count=1) for _ in range(300))))

        assert _with_net(_config(sb), many, deadline=2.0) == [[]] * 300
    finally:
        os.kill(child, signal.SIGCONT)


def test_it_keeps_no_cookie_an_answer_set(world_sandbox: Sandbox) -> None:
    """A request carries the cookies its caller sends, never one an earlier answer set on the same Net: the
    fake app's session, sent by hand, opens the dashboard; the next request without it is signed out."""
    login, dashboard = "https://app.saas-app.test/login", "https://app.saas-app.test/dashboard"

    async def go() -> tuple[int | None, int | None]:
        async with Net(world_sandbox.net_config()) as net:
            form = await net.fetch(login)
            cookie = form.final.header("set-cookie") or ""
            token = cookie.split(";")[0].split("=", 1)[1]
            body = urlencode({"csrfmiddlewaretoken": token, "email": ACCOUNT_EMAIL, "password": ACCOUNT_PASSWORD})
            signed_in = await net.fetch(
                login,
                method="POST",
                content=body.encode(),
                headers={"Cookie": f"csrftoken={token}", "Content-Type": "application/x-www-form-urlencoded"},
                follow_redirects=False,
            )
            assert signed_in.final.status == 302, signed_in.text
            with_session = await net.fetch(
                dashboard, headers={"Cookie": f"sessionid={SaasApp('saas-app.test').session()}"}, follow_redirects=False
            )
            without = await net.fetch(dashboard, follow_redirects=False)
            return with_session.final.status, without.final.status

    assert asyncio.run(go()) == (200, 302)
