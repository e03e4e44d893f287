"""The DNS blocklists of a real send, asked through net.py against the sandbox's own zones: a listed sending
address (IPv4 and IPv6) and a listed linked domain are findings with the zone, the code and the fix; a refusal, a
rewritten answer or silence is "could not check" (one log line per zone), never "listed"; hostile bodies (thousands
of links, malformed URLs) are read within bounds."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
from collections.abc import Iterator

import pytest

from audits.inbound.blocklists import (
    BlocklistResult,
    address_name,
    check_blocklists,
    interpret,
    linked_domains,
    list_info,
    zone_shown,
)
from audits.inbound.verdict import Envelope, MessageVerdict, message_verdict
from audits.models import SendFinding
from audits.risk import risk_list
from launchready.config import Blocklists
from launchready.net import DnsAnswer, DnsRecord, DnsStatus, Net
from launchready.sandbox.blocklists import (
    DNSBL,
    LISTED_DOMAIN,
    LISTED_IPV6,
    REFUSED_DOMAIN,
    REFUSED_IP,
    REWRITTEN_DOMAIN,
    SILENT_DOMAIN,
    URIBL,
)
from launchready.sandbox.dns_server import ZoneData
from launchready.sandbox.mail_sender import GOOD_IP, SENDER, SENDER_HOST, add_sender_records, send, sender_keys
from launchready.sandbox.runner import Sandbox
from tests.audits.inbound.conftest import Running
from tests.audits.inbound.test_receiver import verdict_of

ZONES = Blocklists(dnsbl=(DNSBL,), uribl=(URIBL,))


@pytest.fixture(scope="module")
def list_dns() -> Iterator[Sandbox]:
    zone = ZoneData()
    add_sender_records(zone, sender_keys())
    with Sandbox(zone) as sandbox:
        yield sandbox


def email_linking(*links: str, html: str = "") -> bytes:
    head = (
        f"From: App <hello@{SENDER}>\r\nTo: x@example.test\r\nSubject: Hi\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
        f"Message-ID: <b.1@{SENDER}>\r\nMIME-Version: 1.0\r\n"
    )
    text = "\r\n".join(links)
    if not html:
        return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n").encode()
    return (
        head + 'Content-Type: multipart/alternative; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
        f"{text}\r\n--b\r\nContent-Type: text/html\r\n\r\n{html}\r\n--b--\r\n"
    ).encode()


def checked(
    sandbox: Sandbox, raw: bytes, peer: str = GOOD_IP, zones: Blocklists = ZONES, **net: float
) -> BlocklistResult:
    async def run() -> BlocklistResult:
        async with Net(dataclasses.replace(sandbox.net_config(), **net)) as connection:
            return await check_blocklists(connection, raw, peer, zones)

    return asyncio.run(run())


def judge(sandbox: Sandbox, raw: bytes, peer: str) -> MessageVerdict:
    async def run() -> MessageVerdict:
        async with Net(sandbox.net_config()) as net:
            envelope = Envelope(peer=peer, helo=SENDER_HOST, mail_from=f"bounce@{SENDER}", tls_version="TLSv1.3")
            return await message_verdict(net, raw, envelope, blocklists=ZONES)

    return asyncio.run(run())


# --- Through the receiver ---------------------------------------------------------------------------------------


def test_a_listed_link_is_a_finding_with_its_zone_code_and_fix(
    receiver: Running, issued: tuple[object, str], world_sandbox: Sandbox
) -> None:
    send("listed_link", issued[1], host="127.0.0.1", port=receiver.port, keys=sender_keys())
    message = verdict_of(receiver.stored[0], world_sandbox)
    results = message.verdict["results"]["blocklists"]
    assert results["domains_checked"] == [SENDER, LISTED_DOMAIN]  # offers.spammy-links.test, registrable
    finding = next(f for f in message.verdict["findings"] if f["check_id"] == "email.send.link_listed")
    assert finding["severity"] == "high"
    assert finding["evidence"] == {
        "zone": URIBL,
        "codes": ["127.0.1.2"],
        "meaning": "a domain used in spam",
        "domain": LISTED_DOMAIN,
    }
    assert finding["subject"] == f"{LISTED_DOMAIN} in {URIBL}"
    assert message.verdict["passed"] is False
    page_finding = SendFinding.objects.get(message=message, check_id="email.send.link_listed")
    assert (
        page_finding.title == f"This email links to {LISTED_DOMAIN}, which is on a blocklist (Sandbox domain blocklist)"
    )
    assert "https://blocklists.test/lookup" in page_finding.fix
    risks = risk_list(message.address.client)  # it joins the client's risk list with the other email.send findings
    assert "email.send.link_listed" in {f.check_id for f in risks.all_open}


def test_a_listed_sending_address_is_a_finding(
    receiver: Running, issued: tuple[object, str], world_sandbox: Sandbox
) -> None:
    send("listed_address", issued[1], host="127.0.0.1", port=receiver.port, keys=sender_keys())
    message = verdict_of(receiver.stored[0], world_sandbox)
    finding = next(f for f in message.verdict["findings"] if f["check_id"] == "email.send.address_listed")
    assert finding["evidence"]["address"] == "127.0.77.12" and finding["evidence"]["codes"] == ["127.0.0.2"]
    assert finding["params"]["meaning"] == "a source of spam Spamhaus has verified (SBL)"
    assert message.verdict["results"]["blocklists"]["address"] == "127.0.77.12"


# --- The answers ---------------------------------------------------------------------------------------------------


def test_an_ipv6_sender_is_asked_by_its_nibbles(list_dns: Sandbox) -> None:
    assert address_name("2001:db8::1") == "1.0.0.0." + "0.0.0.0." * 5 + "8.b.d.0.1.0.0.2"
    assert address_name("::ffff:127.0.77.12") == "12.77.0.127"  # IPv4-mapped: asked as the IPv4 address
    assert address_name("not an address") is None
    verdict = judge(list_dns, email_linking(), LISTED_IPV6)
    finding = next(f for f in verdict.findings if f.check_id == "email.send.address_listed")
    assert finding.params["meaning"] == "an infected or hijacked machine (XBL)"


def test_a_refusal_is_could_not_check_never_listed(list_dns: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="audits.inbound.blocklists"):
        verdict = judge(list_dns, email_linking(f"https://{REFUSED_DOMAIN}/"), REFUSED_IP)
    ids = [f.check_id for f in verdict.findings]
    assert "email.send.address_listed" not in ids and "email.send.link_listed" not in ids
    unchecked = {f.subject: f for f in verdict.findings if f.check_id == "email.send.blocklist_unchecked"}
    assert set(unchecked) == {DNSBL, URIBL}
    assert "public or open resolvers" in unchecked[DNSBL].params["reason"]
    assert unchecked[DNSBL].params["what"] == f"the sending address {REFUSED_IP}"
    assert "free query allowance" in unchecked[URIBL].params["reason"]
    assert len([r for r in caplog.records if r.name == "audits.inbound.blocklists"]) == 2  # one line per zone


def test_a_silent_blocklist_is_one_log_line_and_could_not_check(
    list_dns: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    raw = email_linking(f"https://{SILENT_DOMAIN}/", f"https://www.{SILENT_DOMAIN}/b", f"https://{REWRITTEN_DOMAIN}/")
    with caplog.at_level(logging.WARNING, logger="audits.inbound.blocklists"):
        result = checked(list_dns, raw, dns_lifetime=1.0, dns_timeout=0.5)
    by_domain = {item.subject: item for item in result.listings if item.kind == "domain"}
    assert by_domain[SILENT_DOMAIN].status == "unchecked" and "timeout" in by_domain[SILENT_DOMAIN].meaning
    assert by_domain[REWRITTEN_DOMAIN].status == "unchecked"  # 192.0.2.80 is no blocklist code
    assert "not a blocklist code" in by_domain[REWRITTEN_DOMAIN].meaning
    lines = [r.getMessage() for r in caplog.records if r.name == "audits.inbound.blocklists"]
    assert len(lines) == 1 and URIBL in lines[0] and "2 name(s)" in lines[0]


def answer(*values: str, status: DnsStatus = DnsStatus.OK) -> DnsAnswer:
    return DnsAnswer("q", "A", status, tuple(DnsRecord("q", "A", 60, v) for v in values))


@pytest.mark.parametrize(
    ("zone", "reply", "status", "meaning"),
    [
        ("zen.spamhaus.org", answer(status=DnsStatus.NXDOMAIN), "clear", ""),
        ("zen.spamhaus.org", answer("127.0.0.11"), "listed", "an end-user address that should not send email directly"),
        ("zen.spamhaus.org", answer("127.255.255.254"), "refused", "public or open resolvers"),
        ("zen.spamhaus.org", answer("127.255.255.250"), "refused", "code 127.255.255.250"),
        ("zen.spamhaus.org", answer(status=DnsStatus.SERVFAIL), "unchecked", "did not answer (servfail)"),
        ("dbl.spamhaus.org", answer("127.0.1.255"), "refused", "IP addresses"),
        ("dbl.spamhaus.org", answer("127.0.1.4"), "listed", "phishing"),
        ("multi.uribl.com", answer("127.0.0.1"), "refused", "public resolvers"),
        ("multi.uribl.com", answer("127.0.0.6"), "listed", "on the black list (seen in spam), on the grey list"),
        ("bl.example.test", answer("127.0.0.5"), "listed", "listed (code 127.0.0.5)"),
        ("bl.example.test", answer("10.0.0.1"), "unchecked", "not a blocklist code"),
    ],
)
def test_each_return_code_is_read_as_its_list_means_it(zone: str, reply: DnsAnswer, status: str, meaning: str) -> None:
    listing = interpret("address", "192.0.2.1", zone, reply)
    assert listing.status == status
    assert meaning in listing.meaning


def test_an_access_key_in_a_zone_is_never_shown() -> None:
    zone = "a1b2c3d4e5f6g7h8i9j0k1l2m3.zen.dq.spamhaus.net"
    assert zone_shown(zone) == "….zen.dq.spamhaus.net"
    assert list_info(zone).name == "Spamhaus ZEN"
    listing = interpret("address", "192.0.2.1", zone, answer("127.0.0.2"))
    assert "a1b2c3" not in repr(listing)


# --- Hostile bodies -------------------------------------------------------------------------------------------------

WEIRD = [
    "http://",
    "https://[::1]:8080/x",
    "https://192.0.2.7/login",
    f"http://user:pw@{LISTED_DOMAIN}/",  # the host after the user name is what the browser opens
    "http://a..b.test/",
    "https://" + "a" * 300 + ".test/",
    "https://bücher.test/",
    "https://-bad-.test/",
    "http://exa mple.test/",
    "https://com/",
    f"HTTPS://WWW.{SENDER.upper()}:443/path",
    "https://%73pammy.test/",
    "https://x.test:99999999/",
]


def test_weird_links_are_read_or_skipped_never_crash() -> None:
    domains, address_links = linked_domains(email_linking(*WEIRD))
    assert domains == [LISTED_DOMAIN, "xn--bcher-kva.test", SENDER, "x.test"]
    assert address_links == 2


def test_links_in_html_are_found_entities_and_encodings_included() -> None:
    html = f"<a href=\"https&#58;//{LISTED_DOMAIN}/a\">x</a> <a href='https://shop.other-links.test/'>y</a>"
    assert linked_domains(email_linking(html=html)) == ([LISTED_DOMAIN, "other-links.test"], 0)
    raw = (
        b"From: a@b.test\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=x-no-such-charset\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(f'<a href="https://{LISTED_DOMAIN}/">z</a>'.encode())
        + b"\r\n"
    )
    assert linked_domains(raw) == ([LISTED_DOMAIN], 0)


def test_thousands_of_links_are_capped(list_dns: Sandbox) -> None:
    raw = email_linking(*(f"https://d{n}.example-{n}.test/" for n in range(20_000)))
    result = checked(list_dns, raw, zones=dataclasses.replace(ZONES, max_link_domains=15))
    assert result.domains_found == 5_000  # links read, at most
    assert len(result.domains_checked) == 15
    assert len([item for item in result.listings if item.kind == "domain"]) == 15


def test_no_zones_means_no_questions(list_dns: Sandbox) -> None:
    result = checked(list_dns, email_linking(f"https://{LISTED_DOMAIN}/"), zones=Blocklists())
    assert result.listings == [] and result.domains_checked == []
