"""DMARC aggregate reports (RFC 7489 appendix C, RFC 9990): the gzip, zip or XML attachments of a report email,
unpacked and parsed within bounds.

defusedxml parses the XML, with DTDs, entity declarations and external references refused outright (so an
entity-expansion bomb or an XXE never expands), and a tree builder that counts elements. Unpacking is bounded
by the size of what comes out and by its ratio to what went in, read in chunks, so a zip or gzip bomb is
stopped after a few megabytes, not after it fills the memory. parsedmarc is not used: it brings a dozen
dependencies (Elasticsearch, Kafka, S3 and Splunk clients among them) for the one thing needed here.
"""

from __future__ import annotations

import email
import email.policy
import gzip
import io
import ipaddress
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import IO
from xml.etree.ElementTree import Element, ParseError, TreeBuilder  # types and the tree builder: defusedxml parses  # nosec B405

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from audits.inbound.text import clean


@dataclass(frozen=True)
class ReportLimits:
    max_attachments: int = 5
    max_compressed_bytes: int = 5 * 1024 * 1024
    max_xml_bytes: int = 20 * 1024 * 1024
    max_ratio: int = 100  # uncompressed bytes per compressed byte; real reports are 10 to 30
    max_elements: int = 500_000
    max_records: int = 20_000


LIMITS = ReportLimits()
_CHUNK = 64 * 1024


class ReportError(ValueError):
    """A report that cannot be read within the limits; the message says why in plain English."""


@dataclass
class AuthResult:
    domain: str
    result: str
    selector: str = ""  # DKIM
    scope: str = ""  # SPF: mfrom or helo


@dataclass
class ReportRecord:
    """One <record>: a source address, how many messages it sent, and how they fared."""

    source_ip: str
    count: int
    disposition: str  # none, quarantine, reject
    dkim: str  # the DMARC-aligned DKIM result: pass or fail
    spf: str  # the DMARC-aligned SPF result: pass or fail
    header_from: str
    envelope_from: str = ""
    dkim_results: list[AuthResult] = field(default_factory=list)
    spf_results: list[AuthResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.dkim == "pass" or self.spf == "pass"


@dataclass
class AggregateReport:
    org_name: str
    report_id: str
    begin: datetime
    end: datetime
    domain: str  # <policy_published><domain>
    policy: str = ""
    subdomain_policy: str = ""
    pct: int | None = None  # <pct>, when the published record has one (RFC 7489; removed by RFC 9989)
    adkim: str = "r"
    aspf: str = "r"
    email: str = ""
    records: list[ReportRecord] = field(default_factory=list)


# --- Unpacking ----------------------------------------------------------------------------------------


def _bounded(stream: gzip.GzipFile | IO[bytes], compressed: int, limits: ReportLimits) -> bytes:
    """Read a decompressing stream in chunks, stopping at the size limit or the ratio limit, whichever comes first."""
    ceiling = min(limits.max_xml_bytes, max(compressed, 1) * limits.max_ratio)
    out = bytearray()
    while chunk := stream.read(_CHUNK):
        out += chunk
        if len(out) > ceiling:
            if ceiling == limits.max_xml_bytes:
                raise ReportError(f"the report unpacks to more than {limits.max_xml_bytes // 2**20} MB")
            raise ReportError(f"the report unpacks to more than {limits.max_ratio} times its size (a zip bomb?)")
    return bytes(out)


def _gunzip(data: bytes, limits: ReportLimits) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            return _bounded(stream, len(data), limits)
    except (OSError, EOFError, zlib.error) as exc:
        raise ReportError(f"the gzip attachment is damaged ({type(exc).__name__})") from None


def _unzip(data: bytes, limits: ReportLimits) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if len(members) != 1:
                raise ReportError(f"the zip attachment holds {len(members)} files; a report holds one XML file")
            info = members[0]
            if info.file_size > limits.max_xml_bytes:
                raise ReportError(f"the report unpacks to more than {limits.max_xml_bytes // 2**20} MB")
            with archive.open(info) as stream:
                return _bounded(stream, max(info.compress_size, 1), limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
        raise ReportError(f"the zip attachment is damaged ({type(exc).__name__})") from None


def unpack(name: str, content_type: str, data: bytes, limits: ReportLimits = LIMITS) -> bytes:
    """The XML of one attachment, by its magic bytes first (senders label them loosely), then its name and type."""
    if len(data) > limits.max_compressed_bytes:
        raise ReportError(f"the attachment is over {limits.max_compressed_bytes // 2**20} MB")
    if data[:2] == b"\x1f\x8b":
        return _gunzip(data, limits)
    if data[:4] == b"PK\x03\x04":
        return _unzip(data, limits)
    lowered = name.lower()
    if lowered.endswith(".xml") or "xml" in content_type:
        if len(data) > limits.max_xml_bytes:
            raise ReportError(f"the report is over {limits.max_xml_bytes // 2**20} MB")
        return data
    raise ReportError("the attachment is neither gzip, zip nor XML")


def attachments(raw: bytes, limits: ReportLimits = LIMITS) -> list[tuple[str, str, bytes]]:
    """(file name, content type, bytes) of each part of a report email that may hold a report."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    found: list[tuple[str, str, bytes]] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        name = clean(str(part.get_filename() or ""), 200)
        labelled = any(w in content_type for w in ("zip", "gzip", "xml")) or name.lower().endswith(
            (".zip", ".gz", ".xml")
        )
        # Reporters label attachments loosely (application/octet-stream): any attachment is looked at.
        if (
            not labelled
            and part.get_content_disposition() != "attachment"
            and content_type != "application/octet-stream"
        ):
            continue
        payload = _payload(part)
        if payload:
            found.append((name, content_type, payload))
        if len(found) >= limits.max_attachments:
            break
    return found


def _payload(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


# --- Parsing ------------------------------------------------------------------------------------------


class _CountingBuilder(TreeBuilder):
    def __init__(self, max_elements: int) -> None:
        super().__init__()
        self.remaining = max_elements

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self.remaining -= 1
        if self.remaining < 0:
            raise ReportError("the report has too many XML elements")
        return super().start(tag, attrs)


def _xml(data: bytes, limits: ReportLimits) -> Element:
    parser = DefusedXMLParser(target=_CountingBuilder(limits.max_elements), forbid_dtd=True)
    try:
        for start in range(0, len(data), _CHUNK):
            parser.feed(data[start : start + _CHUNK])
        root: Element = parser.close()
    except DefusedXmlException:
        raise ReportError("the report declares a DTD or entities, which reports never need (refused)") from None
    except ParseError as exc:
        raise ReportError(f"the report is not well-formed XML ({clean(str(exc), 120)})") from None
    return root


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]  # RFC 9990 reports carry a namespace; RFC 7489 ones do not


def _child(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _text(element: Element | None, *path: str, limit: int = 255) -> str:
    found = _child(element, *path)
    return clean(found.text or "", limit) if found is not None else ""


def _time(element: Element | None, name: str) -> datetime:
    text = _text(element, "date_range", name)
    if not text.isdigit() or len(text) > 12:
        raise ReportError(f"the report's date range has no valid <{name}>")
    return datetime.fromtimestamp(int(text), UTC)


def _record(element: Element) -> ReportRecord:
    row = _child(element, "row")
    source = _text(row, "source_ip")
    try:
        source = str(ipaddress.ip_address(source))
    except ValueError:
        raise ReportError(f"a record has no valid source address ({source[:60]!r})") from None
    count_text = _text(row, "count")
    if not count_text.isdigit() or len(count_text) > 12:
        raise ReportError("a record has no valid message count")
    record = ReportRecord(
        source_ip=source,
        count=int(count_text),
        disposition=_text(row, "policy_evaluated", "disposition").lower(),
        dkim=_text(row, "policy_evaluated", "dkim").lower(),
        spf=_text(row, "policy_evaluated", "spf").lower(),
        header_from=_text(element, "identifiers", "header_from").lower(),
        envelope_from=_text(element, "identifiers", "envelope_from").lower(),
    )
    results = _child(element, "auth_results")
    for result in list(results) if results is not None else []:
        kind = _local(result.tag)
        found = AuthResult(_text(result, "domain").lower(), _text(result, "result").lower())
        if kind == "dkim":
            found.selector = _text(result, "selector").lower()
            record.dkim_results.append(found)
        elif kind == "spf":
            found.scope = _text(result, "scope").lower()
            record.spf_results.append(found)
    return record


def _pct(text: str) -> int | None:
    """The percentage a report says the policy applied to; None when it names none (or nonsense)."""
    return int(text) if text.isdigit() and len(text) <= 3 and int(text) <= 100 else None


def parse_report(data: bytes, limits: ReportLimits = LIMITS) -> AggregateReport:
    """One aggregate report's XML, read as RFC 7489 appendix C (and RFC 9990) lays it out."""
    root = _xml(data, limits)
    if _local(root.tag) != "feedback":
        raise ReportError("the XML is not a DMARC aggregate report (no <feedback>)")
    metadata, published = _child(root, "report_metadata"), _child(root, "policy_published")
    domain = _text(published, "domain").lower().rstrip(".")
    if not domain:
        raise ReportError("the report names no domain (<policy_published><domain>)")
    report = AggregateReport(
        org_name=_text(metadata, "org_name") or "(unnamed reporter)",
        report_id=_text(metadata, "report_id"),
        begin=_time(metadata, "begin"),
        end=_time(metadata, "end"),
        domain=domain,
        policy=_text(published, "p").lower(),
        subdomain_policy=_text(published, "sp").lower(),
        pct=_pct(_text(published, "pct")),
        adkim=_text(published, "adkim").lower() or "r",
        aspf=_text(published, "aspf").lower() or "r",
        email=_text(metadata, "email"),
    )
    for element in root:
        if _local(element.tag) != "record":
            continue
        if len(report.records) >= limits.max_records:
            raise ReportError(f"the report has more than {limits.max_records} records")
        report.records.append(_record(element))
    return report


def reports_in(raw: bytes, limits: ReportLimits = LIMITS) -> tuple[list[AggregateReport], list[str]]:
    """Every report a report email carries, and why each attachment that is not one could not be read."""
    reports: list[AggregateReport] = []
    problems: list[str] = []
    for name, content_type, data in attachments(raw, limits):
        try:
            reports.append(parse_report(unpack(name, content_type, data, limits), limits))
        except ReportError as exc:
            problems.append(f"{name or content_type}: {exc}")
    if not reports and not problems:
        problems.append("the email has no gzip, zip or XML attachment")
    return reports, problems
