"""A received message against DNS blocklists, as receivers check it: the sending address against the DNSBL zones
(IPv4 octets reversed, IPv6 nibbles reversed) and the registrable domains its text and HTML parts link to against
the URIBL zones. Every question goes through launchready/net.py.

A blocklist answers 127.0.0.x (or another 127/8 code) for a listing and NXDOMAIN for none; Spamhaus answers
127.255.255.x, and URIBL 127.0.0.1, when it refuses to answer (public resolvers, an exhausted free quota): that is
"could not check", never "listed". A timeout or a server failure is "could not check" too.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import html
import ipaddress
import logging
import re
from dataclasses import asdict, dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from audits.inbound.text import clean
from launchready.config import Blocklists
from launchready.domains import DomainError, normalise_hostname
from launchready.net import DnsAnswer, Net
from launchready.psl import registrable_domain

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2_000_000  # of the decoded text and HTML parts read for links
MAX_LINKS = 5_000  # links read; the domains checked are capped by the setting
MAX_PARTS = 50
_LINK = re.compile(r"https?://([^\s/?#<>\"'\\`(){}|^]{1,300})", re.IGNORECASE)
_LONG_TOKEN = re.compile(r"(?=[a-z0-9]*[0-9])(?=[a-z0-9]*[a-z])[a-z0-9]{20,}")
_REFUSED_NETWORK = ipaddress.ip_network("127.255.255.0/24")


@dataclass(frozen=True)
class ListInfo:
    """What the product knows of a blocklist: its name, where to look an entry up and ask for removal, its codes."""

    name: str
    lookup: str
    codes: dict[str, str] = field(default_factory=dict)
    refusals: dict[str, str] = field(default_factory=dict)
    bitmask: dict[int, str] = field(default_factory=dict)  # URIBL's codes add up: 127.0.0.(2|4|8)


_SPAMHAUS_REFUSALS = {
    "127.255.255.252": "the query was malformed",
    "127.255.255.254": "it does not answer queries sent through public or open resolvers",
    "127.255.255.255": "this installation has used up its free query allowance",
}
_ZEN = ListInfo(
    "Spamhaus ZEN",
    "https://check.spamhaus.org/",
    {
        "127.0.0.2": "a source of spam Spamhaus has verified (SBL)",
        "127.0.0.3": "an address that sent low-reputation or snowshoe spam recently (CSS)",
        "127.0.0.4": "an infected or hijacked machine (XBL)",
        "127.0.0.5": "an infected or hijacked machine (XBL)",
        "127.0.0.6": "an infected or hijacked machine (XBL)",
        "127.0.0.7": "an infected or hijacked machine (XBL)",
        "127.0.0.9": "a network run by spammers or criminals (DROP)",
        "127.0.0.10": "an address its provider says should not send email directly (PBL)",
        "127.0.0.11": "an end-user address that should not send email directly (PBL)",
    },
    _SPAMHAUS_REFUSALS,
)
_DBL = ListInfo(
    "Spamhaus DBL",
    "https://check.spamhaus.org/",
    {
        "127.0.1.2": "a domain used in spam",
        "127.0.1.4": "a domain used for phishing",
        "127.0.1.5": "a domain used to spread malware",
        "127.0.1.6": "a domain that controls a botnet",
        "127.0.1.102": "a legitimate domain abused in spam",
        "127.0.1.103": "a legitimate domain abused as a spam redirector",
        "127.0.1.104": "a legitimate domain abused for phishing",
        "127.0.1.105": "a legitimate domain abused to spread malware",
        "127.0.1.106": "a legitimate domain abused to control a botnet",
    },
    {**_SPAMHAUS_REFUSALS, "127.0.1.255": "it does not answer questions about IP addresses"},
)
_URIBL = ListInfo(
    "URIBL",
    "https://admin.uribl.com/",
    refusals={"127.0.0.1": "it refuses queries through public resolvers or over its free allowance"},
    bitmask={2: "on the black list (seen in spam)", 4: "on the grey list (seen in bulk mail)", 8: "on the red list"},
)
_SANDBOX_DNSBL = ListInfo("Sandbox address blocklist", "https://blocklists.test/lookup", _ZEN.codes, _ZEN.refusals)
_SANDBOX_URIBL = ListInfo("Sandbox domain blocklist", "https://blocklists.test/lookup", _DBL.codes, _DBL.refusals)
KNOWN_LISTS = {
    "zen.spamhaus.org": _ZEN,
    "zen.dq.spamhaus.net": _ZEN,  # the Data Query Service: <key>.zen.dq.spamhaus.net
    "dbl.spamhaus.org": _DBL,
    "dbl.dq.spamhaus.net": _DBL,
    "multi.uribl.com": _URIBL,
    "dnsbl.blocklists.test": _SANDBOX_DNSBL,
    "uribl.blocklists.test": _SANDBOX_URIBL,
}


def zone_shown(zone: str) -> str:
    """The zone as shown and logged: a label that looks like an access key (Spamhaus DQS puts one in front of
    the zone) becomes "…"."""
    return ".".join("…" if _LONG_TOKEN.fullmatch(label) else label for label in zone.split("."))


def list_info(zone: str) -> ListInfo:
    shown = zone_shown(zone)
    return KNOWN_LISTS.get(shown.removeprefix("….")) or ListInfo(shown, f"the blocklist's own website ({shown})")


@dataclass
class Listing:
    """One question to one zone and what it answered."""

    kind: str  # address, domain
    subject: str  # the address or the registrable domain asked about
    zone: str  # as shown (an access key in it blanked)
    status: str  # listed, clear, refused (the blocklist would not answer), unchecked (DNS failed)
    codes: list[str] = field(default_factory=list)
    meaning: str = ""  # in plain English
    list_name: str = ""
    lookup: str = ""  # where to look the entry up and ask for removal


@dataclass
class BlocklistResult:
    address: str = ""  # the sending address asked about ("" when it is not an IP address)
    listings: list[Listing] = field(default_factory=list)  # every answer, clear ones included
    domains_found: int = 0  # distinct registrable domains linked from the body
    domains_checked: list[str] = field(default_factory=list)
    address_links: int = 0  # links to a bare IP address (not checked against domain lists)
    dnsbl_zones: list[str] = field(default_factory=list)
    uribl_zones: list[str] = field(default_factory=list)

    def of(self, status: str) -> list[Listing]:
        return [listing for listing in self.listings if listing.status == status]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- The names asked ---------------------------------------------------------------------------------


def address_name(address: str) -> str | None:
    """The DNSBL label of an address: IPv4 octets reversed, IPv6 nibbles reversed; IPv4-mapped IPv6 as IPv4."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.reverse_pointer.removesuffix(".in-addr.arpa").removesuffix(".ip6.arpa")


def _text_parts(raw: bytes) -> list[str]:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    texts, budget = [], MAX_TEXT_CHARS
    for count, part in enumerate(message.walk()):
        if count >= MAX_PARTS or budget <= 0:
            break
        if part.get_content_maintype() != "text" or part.get_content_subtype() not in ("plain", "html"):
            continue
        text = _decoded(part)[:budget]
        budget -= len(text)
        texts.append(html.unescape(text) if part.get_content_subtype() == "html" else text)
    return texts


def _decoded(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError):
        return ""
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except (LookupError, ValueError):  # an unknown or hostile charset name
        return payload.decode("utf-8", errors="replace")


def _host_of(authority: str) -> str:
    """The host of a link's authority part (user name and port dropped), "" when there is none."""
    try:
        return urlsplit(f"//{authority.rstrip('.,;:!?')}").hostname or ""
    except ValueError:
        return ""


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def linked_domains(raw: bytes) -> tuple[list[str], int]:
    """The registrable domains the text and HTML parts link to (http and https), first link first, without
    repeats; and how many links point at a bare IP address. Never raises on what the message contains."""
    domains: dict[str, None] = {}
    address_links, seen = 0, 0
    for text in _text_parts(raw):
        for match in _LINK.finditer(text):
            seen += 1
            if seen > MAX_LINKS:
                return list(domains), address_links
            host = _host_of(match.group(1))
            if not host:
                continue
            if is_address(host):
                address_links += 1
                continue
            try:
                registrable = registrable_domain(normalise_hostname(host))
            except DomainError:
                continue
            if registrable:
                domains.setdefault(registrable, None)
    return list(domains), address_links


# --- The answers -------------------------------------------------------------------------------------


def _is_code(value: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network("127.0.0.0/8")
    except ValueError:
        return False


def interpret(kind: str, subject: str, zone: str, answer: DnsAnswer) -> Listing:
    """One blocklist answer read as its list means it."""
    info = list_info(zone)
    listing = Listing(kind, subject, zone_shown(zone), "clear", list_name=info.name, lookup=info.lookup)
    if answer.is_void:
        return listing
    if not answer.ok:
        listing.status = "unchecked"
        listing.meaning = f"the blocklist did not answer ({answer.status})"
        return listing
    codes = sorted(set(answer.values), key=lambda v: (not _is_code(v), v))[:10]
    listing.codes = [clean(code, 64) for code in codes]
    if not codes or not all(_is_code(code) for code in codes):
        # An answer outside 127/8 is a resolver that rewrites "does not exist" (an ISP's search page), not a list.
        listing.status = "unchecked"
        listing.meaning = "the answer was not a blocklist code (a resolver on the way rewrites answers)"
        return listing
    refusals = [info.refusals.get(code) or _refusal(code) for code in codes]
    if any(refusals):
        listing.status = "refused"
        listing.meaning = next(reason for reason in refusals if reason)
        return listing
    listing.status = "listed"
    listing.meaning = "; ".join(dict.fromkeys(_meaning(info, code) for code in codes))
    return listing


def _refusal(code: str) -> str:
    if ipaddress.ip_address(code) in _REFUSED_NETWORK:
        return f"it refused the query (code {code})"
    return ""


def _meaning(info: ListInfo, code: str) -> str:
    if code in info.codes:
        return info.codes[code]
    if info.bitmask:
        last = int(code.rsplit(".", 1)[-1])
        parts = [text for bit, text in info.bitmask.items() if last & bit]
        if parts:
            return ", ".join(parts)
    return f"listed (code {code})"


async def _ask(net: Net, kind: str, subject: str, label: str, zone: str) -> Listing:
    return interpret(kind, subject, zone, await net.dns(f"{label}.{zone}", "A"))


async def check_blocklists(net: Net, raw: bytes, peer: str, config: Blocklists) -> BlocklistResult:
    """The sending address against every DNSBL zone and the first linked domains against every URIBL zone."""
    result = BlocklistResult(
        dnsbl_zones=[zone_shown(z) for z in config.dnsbl], uribl_zones=[zone_shown(z) for z in config.uribl]
    )
    questions = []
    label = address_name(peer)
    if label is not None:
        result.address = peer
        questions += [_ask(net, "address", peer, label, zone) for zone in config.dnsbl]
    if config.uribl and config.max_link_domains > 0:
        domains, result.address_links = linked_domains(raw)
        result.domains_found = len(domains)
        result.domains_checked = domains[: config.max_link_domains]
        questions += [_ask(net, "domain", d, d, zone) for d in result.domains_checked for zone in config.uribl]
    result.listings = list(await asyncio.gather(*questions))
    _log_unchecked(result)
    return result


def _log_unchecked(result: BlocklistResult) -> None:
    """One line per zone that could not be asked, however many questions to it failed."""
    failed: dict[str, list[Listing]] = {}
    for listing in result.listings:
        if listing.status in ("refused", "unchecked"):
            failed.setdefault(listing.zone, []).append(listing)
    for zone, listings in failed.items():
        log.warning("blocklist %s could not be checked for %d name(s): %s", zone, len(listings), listings[0].meaning)
