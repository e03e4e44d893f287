"""DMARC aggregate reports: the sandbox's own reports in RFC 7489's format, gzipped, zipped or bare, read back;
a zip bomb, a gzip bomb, an entity-expansion bomb, an external entity, too many elements and broken archives
end in one plain sentence each, never in a crash or an exhausted memory."""

from __future__ import annotations

import gzip
import io
import zipfile
from datetime import UTC, datetime

import pytest

from audits.inbound.dmarc_reports import ReportError, ReportLimits, parse_report, reports_in, unpack
from launchready.sandbox.dmarc_reports import Source, aggregate_xml, gzipped, report_email, zipped

DOMAIN = "sends-mail.test"
SOURCES = [
    Source("127.0.77.10", 120),
    Source("203.0.113.9", 7, dkim="fail", spf="fail"),
    Source("2001:db8::25", 3, dkim="pass", spf="fail", dkim_domain="sends-mail.test"),
]
XML = aggregate_xml(DOMAIN, SOURCES, policy="none")


@pytest.mark.parametrize(
    ("name", "content_type", "data"),
    [
        ("provider.test!sends-mail.test!1796083200!1796169599.xml.gz", "application/gzip", gzipped(XML)),
        ("provider.test!sends-mail.test!1796083200!1796169599.zip", "application/zip", zipped(XML)),
        ("report.xml", "text/xml", XML),
        ("mislabelled.bin", "application/octet-stream", gzipped(XML)),  # known by its magic bytes
    ],
)
def test_a_report_email_is_read_back_whole(name: str, content_type: str, data: bytes) -> None:
    raw = report_email("dmarc-x@mail.launchready.test", DOMAIN, data, name=name, content_type=content_type)
    reports, problems = reports_in(raw)
    assert problems == []
    [report] = reports
    assert (report.org_name, report.domain, report.policy) == ("Sandbox Mail Provider", DOMAIN, "none")
    assert report.begin == datetime(2026, 12, 1, tzinfo=UTC)
    assert [(r.source_ip, r.count, r.passed) for r in report.records] == [
        ("127.0.77.10", 120, True),
        ("203.0.113.9", 7, False),
        ("2001:db8::25", 3, True),
    ]
    assert report.records[1].dkim_results[0].domain == DOMAIN
    assert report.records[1].spf_results[0].scope == "mfrom"


def test_a_namespaced_rfc_9990_report_reads_the_same() -> None:
    namespaced = XML.replace(b"<feedback>", b'<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">')
    assert [r.count for r in parse_report(namespaced).records] == [120, 7, 3]


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.xml", b"<feedback>" + b" " * (60 * 1024 * 1024) + b"</feedback>")
    return buffer.getvalue()


def test_a_zip_bomb_is_stopped_by_its_declared_size() -> None:
    bomb = _zip_bomb()
    assert len(bomb) < 1024 * 1024  # 60 MB of XML in well under a megabyte
    with pytest.raises(ReportError, match="more than 20 MB"):
        unpack("report.zip", "application/zip", bomb)


def test_a_zip_bomb_that_lies_about_its_size_is_stopped_by_the_ratio() -> None:
    bomb = bytearray(_zip_bomb())
    # Rewrite the declared uncompressed size (local header and central directory) to 1 KB.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = bomb.index(signature) + offset
        bomb[at : at + 4] = (1024).to_bytes(4, "little")
    with pytest.raises(ReportError, match=r"times its size|damaged"):
        unpack("report.zip", "application/zip", bytes(bomb))


def test_a_gzip_bomb_is_stopped_after_a_bounded_read() -> None:
    bomb = gzip.compress(b"<feedback>" + b"\0" * (60 * 1024 * 1024), compresslevel=9)
    with pytest.raises(ReportError, match="times its size"):
        unpack("report.xml.gz", "application/gzip", bomb)


def test_an_entity_expansion_bomb_is_refused_before_it_expands() -> None:
    lol = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10) for i in range(1, 10)
        )
        + b"]><feedback><report_metadata><org_name>&lol9;</org_name></report_metadata></feedback>"
    )
    with pytest.raises(ReportError, match="DTD or entities"):
        parse_report(lol)


def test_an_external_entity_is_refused() -> None:
    xxe = b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/passwd">]><feedback>&x;</feedback>'
    with pytest.raises(ReportError, match="DTD or entities"):
        parse_report(xxe)


def test_too_many_elements_are_refused() -> None:
    many = aggregate_xml(DOMAIN, [Source(f"127.0.{i // 250}.{i % 250}", 1) for i in range(400)])
    with pytest.raises(ReportError, match="too many XML elements"):
        parse_report(many, ReportLimits(max_elements=1000))
    assert len(parse_report(many).records) == 400


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x1f\x8b\x08\x00garbage", "gzip attachment is damaged"),
        (b"PK\x03\x04garbage", "zip attachment is damaged"),
        (zipped(XML)[:-30], "zip attachment is damaged"),
        (b"%PDF-1.7", "neither gzip, zip nor XML"),
    ],
)
def test_a_broken_attachment_gets_one_sentence(data: bytes, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        unpack("report.bin", "application/octet-stream", data)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<feedback><report_metadata>", "not well-formed"),
        (b"<html><body>hello</body></html>", "not a DMARC aggregate report"),
        (aggregate_xml("", []), "names no domain"),
        (XML.replace(b"<begin>1796083200</begin>", b"<begin>soon</begin>"), "no valid <begin>"),
        (XML.replace(b"127.0.77.10", b"not-an-ip"), "no valid source address"),
        (XML.replace(b"<count>120</count>", b"<count>-1</count>"), "no valid message count"),
    ],
)
def test_a_report_that_is_not_one_gets_one_sentence(xml: bytes, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse_report(xml)


def test_an_email_without_a_report_says_so() -> None:
    raw = b"From: a@provider.test\r\nSubject: hi\r\n\r\nno attachment\r\n"
    assert reports_in(raw) == ([], ["the email has no gzip, zip or XML attachment"])
