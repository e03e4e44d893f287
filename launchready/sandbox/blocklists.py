"""The sandbox's DNS blocklists, the zones development and tests check real sends against (see
launchready/config.py): an address blocklist in the manner of Spamhaus ZEN and a domain blocklist in the manner of
the Spamhaus DBL, each with a listed entry, an entry it refuses to answer for, one whose answer is not a
blocklist code, and one that never answers."""

from __future__ import annotations

import ipaddress

from launchready.config import SANDBOX_DNSBL_ZONES, SANDBOX_URIBL_ZONES
from launchready.sandbox.dns_server import ZoneData

DNSBL = SANDBOX_DNSBL_ZONES[0]
URIBL = SANDBOX_URIBL_ZONES[0]

LISTED_IP = "127.0.77.12"  # a sending address the address blocklist lists as a spam source (127.0.0.2)
LISTED_IPV6 = "2001:db8:77::12"  # listed too, asked as reversed nibbles (127.0.0.4)
REFUSED_IP = "127.0.77.13"  # the address blocklist answers 127.255.255.254: "not through a public resolver"
LISTED_DOMAIN = "spammy-links.test"  # a linked domain the domain blocklist lists (127.0.1.2)
REFUSED_DOMAIN = "refused-links.test"  # the domain blocklist answers 127.255.255.255: "over the quota"
REWRITTEN_DOMAIN = "rewritten-links.test"  # answered with an ordinary address, as a rewriting resolver would
SILENT_DOMAIN = "silent-links.test"  # the domain blocklist never answers for it


def _label(address: str) -> str:
    pointer = ipaddress.ip_address(address).reverse_pointer
    return pointer.removesuffix(".in-addr.arpa").removesuffix(".ip6.arpa")


def add_blocklist_records(zone: ZoneData) -> None:
    # Every DNSBL lists 127.0.0.2 as its test entry and never lists 127.0.0.1.
    zone.add(f"2.0.0.127.{DNSBL}", "A", "127.0.0.2")
    zone.add(f"{_label(LISTED_IP)}.{DNSBL}", "A", "127.0.0.2")
    zone.add(f"{_label(LISTED_IP)}.{DNSBL}", "TXT", "Listed by the sandbox address blocklist")
    zone.add(f"{_label(LISTED_IPV6)}.{DNSBL}", "A", "127.0.0.4")
    zone.add(f"{_label(REFUSED_IP)}.{DNSBL}", "A", "127.255.255.254")
    zone.add(f"{LISTED_DOMAIN}.{URIBL}", "A", "127.0.1.2")
    zone.add(f"{REFUSED_DOMAIN}.{URIBL}", "A", "127.255.255.255")
    zone.add(f"{REWRITTEN_DOMAIN}.{URIBL}", "A", "192.0.2.80")
    zone.behave(f"{SILENT_DOMAIN}.{URIBL}", timeout=True)
