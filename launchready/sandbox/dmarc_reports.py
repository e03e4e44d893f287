"""DMARC aggregate reports of the sandbox's own making, in RFC 7489 appendix C's format: the XML, gzipped or
zipped as reporters send it, in a report email addressed to a client's rua= mailbox."""

from __future__ import annotations

import gzip
import io
import zipfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape  # writes XML, parses none  # nosec B406

if TYPE_CHECKING:
    from launchready.sandbox.dns_server import ZoneData


@dataclass(frozen=True)
class Source:
    ip: str
    count: int
    dkim: str = "pass"  # the aligned DKIM result
    spf: str = "pass"  # the aligned SPF result
    header_from: str = ""
    dkim_domain: str = ""
    spf_domain: str = ""


def aggregate_xml(
    domain: str,
    sources: list[Source],
    *,
    org: str = "Sandbox Mail Provider",
    report_id: str = "sandbox-1",
    begin: int = 1_796_083_200,  # 2026-12-01 00:00 UTC
    policy: str = "none",
    pct: int | None = None,
) -> bytes:
    records = []
    for s in sources:
        disposition = "none" if (s.dkim == "pass" or s.spf == "pass" or policy == "none") else policy
        header_from = escape(s.header_from or domain)
        records.append(
            f"<record><row><source_ip>{escape(s.ip)}</source_ip><count>{s.count}</count>"
            f"<policy_evaluated><disposition>{disposition}</disposition><dkim>{s.dkim}</dkim><spf>{s.spf}</spf>"
            f"</policy_evaluated></row><identifiers><header_from>{header_from}</header_from></identifiers>"
            f"<auth_results><dkim><domain>{escape(s.dkim_domain or domain)}</domain><selector>s1</selector>"
            f"<result>{s.dkim}</result></dkim><spf><domain>{escape(s.spf_domain or domain)}</domain>"
            f"<scope>mfrom</scope><result>{s.spf}</result></spf></auth_results></record>"
        )
    share = f"<pct>{pct}</pct>" if pct is not None else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feedback><version>1.0</version>'
        f"<report_metadata><org_name>{escape(org)}</org_name><email>noreply-dmarc@provider.test</email>"
        f"<report_id>{escape(report_id)}</report_id><date_range><begin>{begin}</begin>"
        f"<end>{begin + 86399}</end></date_range></report_metadata>"
        f"<policy_published><domain>{escape(domain)}</domain><adkim>r</adkim><aspf>r</aspf><p>{policy}</p>"
        f"<sp>{policy}</sp>{share}</policy_published>{''.join(records)}</feedback>\n"
    ).encode()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zipped(data: bytes, name: str = "report.xml") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def report_email(to: str, domain: str, attachment: bytes, *, name: str, content_type: str) -> bytes:
    """A report email as reporters send one: a short text and the report attached."""
    message = EmailMessage()
    message["From"] = "noreply-dmarc@provider.test"
    message["To"] = to
    message["Subject"] = f"Report domain: {domain} Submitter: provider.test Report-ID: sandbox-1"
    message["Date"] = "Tue, 01 Dec 2026 12:00:00 +0000"
    message["Message-ID"] = "<report.1@provider.test>"
    message.set_content(f"This is an aggregate report for {domain}.\n")
    maintype, subtype = content_type.split("/", 1)
    message.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes(policy=SMTP_POLICY)


REPORT_MAIL_DOMAIN = "mail.launchready.test"  # the receiver's mail domain in development (config.DEV_MAIL_DOMAIN)


@dataclass(frozen=True)
class ReportSource:
    """A server that shows up in the demo's reports, with the reverse DNS the sandbox gives it."""

    ip: str
    ptr: str = ""  # "" for none
    confirmed: bool = True  # the name resolves back to the address


# Who sends as the demo's brand: its two providers, a tool it stopped paying for (SendGrid, failing), a server
# claiming a Google name that does not resolve back, and one with no reverse DNS at all.
REPORT_SOURCES = {
    "google": ReportSource("127.0.79.1", "mail-sor-f41.google.com"),
    "postmark": ReportSource("127.0.79.2", "mta42a.mtasv.net"),
    "sendgrid": ReportSource("127.0.79.3", "o1.ptr4021.sendgrid.net"),
    "lookalike": ReportSource("127.0.79.66", "mail-x.google.com", confirmed=False),
    "unknown": ReportSource("127.0.79.99"),
}


def reverse_name(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def add_report_sources(zone: ZoneData, mail_domain: str, client_domains: list[str]) -> None:
    """The report sources' reverse (and forward) DNS, and the RFC 7489 section 7.1 records by which the product's
    mail domain agrees to take reports for each client domain."""
    for source in REPORT_SOURCES.values():
        if source.ptr:
            zone.add(reverse_name(source.ip), "PTR", f"{source.ptr}.")
            zone.add(source.ptr, "A", source.ip if source.confirmed else "127.0.79.200")
    for domain in client_domains:
        zone.add(f"{domain}._report._dmarc.{mail_domain}", "TXT", "v=DMARC1;")
