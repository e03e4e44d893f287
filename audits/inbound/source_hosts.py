"""Who a DMARC report's source address belongs to: its reverse DNS name, confirmed forward, and the mail provider
that name is under. Looked up through net.py by the report task (never in a web request) and kept on the rows."""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from django.utils.timezone import now

from audits.inbound.text import clean
from audits.models import DmarcSource
from launchready.net import Net, NetConfig

LOOKUPS_PER_RUN = 100  # addresses looked up in one go; the rest wait for the next report
AT_ONCE = 20
DEADLINE = 40.0
REUSE = timedelta(days=7)  # an address looked up this recently for the client is not asked again

# Confirmed reverse DNS names under these domains belong to the provider (the names mail servers carry).
PROVIDER_SUFFIXES: dict[str, tuple[str, ...]] = {
    "Google": ("google.com", "googlemail.com"),
    "Microsoft 365": ("outbound.protection.outlook.com", "protection.outlook.com", "outlook.com"),
    "Amazon SES": ("amazonses.com",),
    "SendGrid": ("sendgrid.net",),
    "Mailgun": ("mailgun.net", "mailgun.org"),
    "Postmark": ("mtasv.net", "postmarkapp.com"),
    "Mailchimp": ("mcsv.net", "mcdlv.net", "rsgsv.net", "mandrillapp.com"),
    "Brevo": ("sendinblue.com", "brevo.com", "sender-sib.com"),
    "Zoho Mail": ("zoho.com", "zohomail.com", "zoho.eu"),
    "Fastmail": ("messagingengine.com", "fastmail.com"),
    "HubSpot": ("hubspotemail.net",),
    "SparkPost": ("sparkpostmail.com",),
}


@dataclass(frozen=True)
class SourceHost:
    host: str = ""
    confirmed: bool = False
    provider: str = ""
    answered: bool = True  # False when DNS could not answer: asked again with the next report


def provider_of(host: str) -> str:
    host = host.lower().rstrip(".")
    for provider, suffixes in PROVIDER_SUFFIXES.items():
        if any(host == s or host.endswith(f".{s}") for s in suffixes):
            return provider
    return ""


async def source_host(net: Net, source_ip: str) -> SourceHost:
    """The address's first reverse DNS name, whether it resolves back to the address, and its provider (only
    for a confirmed name: anyone may put any name in their own reverse zone)."""
    address = ipaddress.ip_address(source_ip)
    answer = await net.dns(address.reverse_pointer, "PTR")
    if answer.is_failure:
        return SourceHost(answered=False)
    names = [clean(name.rstrip(".").lower(), 255) for name in answer.values][:3]
    if not names:
        return SourceHost()
    rdtype = "A" if address.version == 4 else "AAAA"
    for name in names:
        forward = await net.dns(name, rdtype)
        if any(_same(value, address) for value in forward.values):
            return SourceHost(name, True, provider_of(name))
    return SourceHost(names[0])


def _same(value: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return ipaddress.ip_address(value) == address
    except ValueError:
        return False


async def _all(addresses: list[str], config: NetConfig | None) -> dict[str, SourceHost]:
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(net: Net, ip: str) -> SourceHost:
        async with gate:
            return await source_host(net, ip)

    async with Net(config, deadline=DEADLINE) as net:
        found = await asyncio.gather(*(one(net, ip) for ip in addresses))
    return dict(zip(addresses, found, strict=True))


def sources_look_up(client_id: int, *, config: NetConfig | None = None) -> int:
    """Name the client's source addresses not looked up yet (a recent answer for the same address is reused);
    how many addresses were asked."""
    pending = DmarcSource.objects.filter(client_id=client_id, looked_up__isnull=True)
    addresses = list(pending.values_list("source_ip", flat=True).distinct().order_by("source_ip")[:LOOKUPS_PER_RUN])
    if not addresses:
        return 0
    known = (
        DmarcSource.objects.filter(client_id=client_id, source_ip__in=addresses, looked_up__gte=now() - REUSE)
        .order_by("source_ip", "-looked_up")
        .values_list("source_ip", "host", "host_confirmed", "provider")
    )
    hosts: dict[str, SourceHost] = {}
    for ip, host, confirmed, provider in known:
        hosts.setdefault(ip, SourceHost(host, confirmed, provider))  # the latest answer for each address
    asked = [ip for ip in addresses if ip not in hosts]
    hosts |= asyncio.run(_all(asked, config)) if asked else {}
    moment = now()
    for ip, found in hosts.items():
        if found.answered:
            pending.filter(source_ip=ip).update(
                host=found.host, host_confirmed=found.confirmed, provider=found.provider, looked_up=moment
            )
    return len(asked)
