"""The sandbox's DNS server: real DNS over UDP and TCP (dnspython messages) from declarative zone data.

It answers for every sandbox name the way a recursive resolver would (CNAME chains followed inside
the answer, RA set), and can be told, per name, to stay silent, answer SERVFAIL, truncate over UDP
or answer late.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

MAX_CHAIN = 12
NAMESERVER_ADDRESSES = ("127.0.0.53", "127.0.0.54")


@dataclass(frozen=True)
class Record:
    name: str
    rdtype: str
    value: str
    ttl: int = 300


@dataclass
class NameBehaviour:
    """How the server treats questions about one name."""

    timeout: bool = False  # never answer
    servfail: bool = False
    refused: bool = False
    truncate: bool = False  # set TC over UDP so the client retries over TCP
    delay: float = 0.0  # seconds before answering
    rdtypes: tuple[str, ...] = ()  # only questions of these types get the behaviour (every type when empty)
    subtree: bool = False  # every name under this one behaves so too (a zone whose nameservers are down)


@dataclass
class ZoneData:
    records: list[Record] = field(default_factory=list)
    behaviours: dict[str, NameBehaviour] = field(default_factory=dict)
    latency: float = 0.0  # injected delay for every answer, in seconds

    def add(self, name: str, rdtype: str, value: str, ttl: int = 300) -> None:
        self.records.append(Record(_norm(name), rdtype.upper(), value, ttl))

    def behave(self, name: str, **kwargs: object) -> None:
        self.behaviours[_norm(name)] = NameBehaviour(**kwargs)  # type: ignore[arg-type]


def _norm(name: str) -> str:
    return name.strip().lower().rstrip(".")


class Resolver:
    """Looks answers up in the zone data."""

    def __init__(self, zone: ZoneData) -> None:
        self.zone = zone
        self.index: dict[str, dict[str, list[Record]]] = {}
        self.existing: set[str] = set()
        for record in zone.records:
            self.index.setdefault(record.name, {}).setdefault(record.rdtype, []).append(record)
            labels = record.name.split(".")
            for i in range(len(labels)):
                self.existing.add(".".join(labels[i:]))  # empty non-terminals exist too

    def _lookup(self, name: str) -> dict[str, list[Record]] | None:
        if name in self.index:
            return self.index[name]
        if name in self.existing:
            return {}
        labels = name.split(".")
        for i in range(1, len(labels)):
            wildcard = "*." + ".".join(labels[i:])
            if wildcard in self.index:
                return self.index[wildcard]
            if ".".join(labels[i:]) in self.existing:
                break  # a closer existing name blocks the wildcard
        return None

    def answer(self, qname: str, qtype: str) -> tuple[int, list[tuple[str, Record]]]:
        """(rcode, [(owner name, record)]) following CNAMEs; NXDOMAIN reflects the last name in the chain."""
        out: list[tuple[str, Record]] = []
        name = qname
        seen: set[str] = set()
        for _ in range(MAX_CHAIN):
            found = self._lookup(name)
            if found is None:
                return dns.rcode.NXDOMAIN, out
            if qtype in found:
                out.extend((name, r) for r in found[qtype])
                return dns.rcode.NOERROR, out
            if "CNAME" in found and qtype != "CNAME":
                cname = found["CNAME"][0]
                out.append((name, cname))
                target = _norm(cname.value)
                if target in seen:
                    return dns.rcode.NOERROR, out  # a loop: hand back what there is, as servers do
                seen.add(name)
                name = target
                continue
            return dns.rcode.NOERROR, out
        return dns.rcode.NOERROR, out


class DnsServer:
    """Serve ZoneData over UDP and TCP on one address and port."""

    def __init__(
        self, zone: ZoneData, host: str = "127.0.0.1", port: int = 0, also: tuple[str, ...] = NAMESERVER_ADDRESSES
    ) -> None:
        self.zone = zone
        self.host = host
        self.port = port
        # The scenarios' nameservers (ns1, ns2) live on these addresses, on the same port, so that an
        # audit can ask each of them directly whether they agree.
        self.also = also
        self.resolver = Resolver(zone)
        self.queries = 0
        self._udp: list[asyncio.DatagramTransport] = []
        self._tcp: asyncio.Server | None = None
        self._extra_tcp: asyncio.Server | None = None

    def reload(self, zone: ZoneData) -> None:
        self.zone = zone
        self.resolver = Resolver(zone)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tcp = await asyncio.start_server(self._serve_tcp, self.host, self.port)
        self.port = self._tcp.sockets[0].getsockname()[1]
        extra = await asyncio.start_server(self._serve_tcp, list(self.also), self.port) if self.also else None
        for host in (self.host, *self.also):
            transport, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(self), local_addr=(host, self.port))
            self._udp.append(transport)
        self._extra_tcp = extra

    async def stop(self) -> None:
        for transport in self._udp:
            transport.close()
        if self._extra_tcp is not None:
            self._extra_tcp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    def behaviour(self, qname: str) -> NameBehaviour | None:
        own = self.zone.behaviours.get(qname)
        if own is not None:
            return own
        labels = qname.split(".")
        for i in range(1, len(labels)):
            above = self.zone.behaviours.get(".".join(labels[i:]))
            if above is not None and above.subtree:
                return above
        return None

    def respond(self, wire: bytes, over_udp: bool) -> tuple[bytes | None, float]:
        """The reply to one query (None: stay silent) and how long to wait before sending it."""
        self.queries += 1
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None, 0.0
        if not query.question:
            return None, 0.0
        question = query.question[0]
        qname = _norm(question.name.to_text())
        qtype = dns.rdatatype.to_text(question.rdtype)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        delay = self.zone.latency
        behaviour = self.behaviour(qname)
        if behaviour is not None and behaviour.rdtypes and qtype not in {t.upper() for t in behaviour.rdtypes}:
            behaviour = None  # e.g. TXT answers while every other type times out (the SPF suite's TIMEOUT)
        if behaviour is not None:
            delay += behaviour.delay
            if behaviour.timeout:
                return None, 0.0
            if behaviour.servfail or behaviour.refused:
                response.set_rcode(dns.rcode.SERVFAIL if behaviour.servfail else dns.rcode.REFUSED)
                return response.to_wire(), delay
            if behaviour.truncate and over_udp:
                response.flags |= dns.flags.TC
                return response.to_wire(), delay
        rcode, records = self.resolver.answer(qname, qtype)
        response.set_rcode(dns.rcode.Rcode(rcode))
        for owner, record in records:
            try:
                rdata = dns.rdata.from_text(dns.rdataclass.IN, record.rdtype, _rdata_text(record))
            except Exception:  # noqa: S112 - a bad test record is left out  # nosec B112
                continue
            rrset = response.find_rrset(
                response.answer, dns.name.from_text(owner), dns.rdataclass.IN, rdata.rdtype, create=True
            )
            rrset.add(rdata, record.ttl)
        if not records or rcode != dns.rcode.NOERROR or records[-1][1].rdtype == "CNAME":
            _add_soa(response, qname)
        try:
            wire_out = response.to_wire(max_size=65535)
        except dns.exception.TooBig:
            response.answer = []
            response.flags |= dns.flags.TC
            wire_out = response.to_wire()
        if over_udp and len(wire_out) > 1232:
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.TC | dns.flags.AA | dns.flags.RA
            wire_out = truncated.to_wire()
        return wire_out, delay

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(2)
                (length,) = struct.unpack("!H", header)
                wire = await reader.readexactly(length)
                reply, delay = self.respond(wire, over_udp=False)
                if reply is None:
                    await asyncio.sleep(3600)
                    return
                if delay:
                    await asyncio.sleep(delay)
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply, delay = self.server.respond(data, over_udp=True)
        if reply is None or self.transport is None:
            return
        if delay:
            asyncio.get_running_loop().call_later(delay, self._send, reply, addr)
        else:
            self._send(reply, addr)

    def _send(self, reply: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            with contextlib.suppress(OSError):
                self.transport.sendto(reply, addr)


def _rdata_text(record: Record) -> str:
    if record.rdtype in ("TXT", "SPF"):
        return " ".join(_quote_chunks(record.value))
    if record.rdtype in ("CNAME", "NS", "PTR", "MX") and not record.value.endswith("."):
        return record.value + "."
    return record.value


def _quote_chunks(value: str) -> Iterable[str]:
    """A TXT value as quoted strings of at most 255 bytes each (a long SPF record spans several)."""
    if value.startswith('"'):
        yield value  # already in zone-file form, several strings possibly
        return
    raw = value.encode()
    if not raw:
        yield '""'
        return
    for i in range(0, len(raw), 255):
        chunk = raw[i : i + 255].decode("utf-8", errors="replace")
        yield '"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _add_soa(response: dns.message.Message, qname: str) -> None:
    zone = ".".join(qname.split(".")[-2:]) or "sandbox"
    rrset = dns.rrset.from_text(zone + ".", 300, "IN", "SOA", f"ns1.{zone}. hostmaster.{zone}. 1 7200 3600 1209600 300")
    response.authority.append(rrset)
