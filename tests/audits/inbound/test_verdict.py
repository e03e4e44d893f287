"""The verdict on one message, judged against sandbox DNS: alignment under relaxed and strict policies, DKIM keys
looked up through net.py (a failing lookup is a temporary error, never "no key"), the l= tag, the header checks,
and hostile messages (malformed MIME, non-UTF-8 headers, garbage) that end in findings, never in a crash."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import dkim
import pytest

from audits.inbound.verdict import Envelope, MessageVerdict, message_verdict, spf_with
from audits.inbound.verification import json_safe, verdict_data
from launchready.net import Net
from launchready.sandbox.dns_server import ZoneData
from launchready.sandbox.mail_sender import (
    GOOD_IP,
    SELECTOR,
    SENDER,
    SENDER_HOST,
    SIGNED_HEADERS,
    add_sender_records,
    build_message,
    sender_keys,
)
from launchready.sandbox.runner import Sandbox

STRICT = f"news.{SENDER}"  # has a strict DMARC record of its own
BROKEN_KEYS = "dns-broken.test"  # its DKIM key lookups fail


@pytest.fixture(scope="module")
def mail_dns() -> Iterator[Sandbox]:
    zone = ZoneData()
    add_sender_records(zone, sender_keys())
    zone.add(f"_dmarc.{STRICT}", "TXT", "v=DMARC1; p=reject; adkim=s; aspf=s")
    zone.add(BROKEN_KEYS, "TXT", "v=spf1 -all")
    zone.behave(f"{SELECTOR}._domainkey.{BROKEN_KEYS}", servfail=True)
    with Sandbox(zone) as sandbox:
        yield sandbox


def judge(sandbox: Sandbox, raw: bytes, *, peer: str = GOOD_IP, mail_from: str = f"bounce@{SENDER}") -> MessageVerdict:
    async def run() -> MessageVerdict:
        async with Net(sandbox.net_config()) as net:
            return await message_verdict(
                net, raw, Envelope(peer=peer, helo=SENDER_HOST, mail_from=mail_from, tls_version="TLSv1.3")
            )

    return asyncio.run(run())


def ids(verdict: MessageVerdict) -> set[str]:
    return {f.check_id for f in verdict.findings}


def message(author: str, *, extra: bytes = b"", body: bytes = b"Hello\r\n") -> bytes:
    return (
        f"From: App <hello@{author}>\r\nTo: someone@example.test\r\nSubject: Hi\r\n"
        f"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <abc.1@{SENDER}>\r\n".encode()
        + extra
        + b"\r\n"
        + body
    )


def signed(raw: bytes, *, domain: str = SENDER, length: bool = False) -> bytes:
    key = sender_keys().key_2048
    return dkim.sign(raw, SELECTOR.encode(), domain.encode(), key, include_headers=SIGNED_HEADERS, length=length) + raw


def test_a_subdomain_aligns_with_its_parent_under_relaxed_dmarc(mail_dns: Sandbox) -> None:
    verdict = judge(mail_dns, signed(message(f"app.{SENDER}")))
    assert verdict.dmarc is not None and verdict.dmarc.result == "pass"
    assert verdict.dmarc.dkim_aligned and verdict.dmarc.spf_aligned
    assert verdict.dmarc.policy == "reject"  # inherited from the organizational domain's p=
    assert "email.send.authenticated" in ids(verdict)


def test_strict_alignment_wants_the_very_same_name(mail_dns: Sandbox) -> None:
    verdict = judge(mail_dns, signed(message(STRICT)))
    assert verdict.dmarc is not None and verdict.dmarc.result == "fail"
    assert (verdict.dmarc.adkim, verdict.dmarc.aspf) == ("s", "s")
    finding = next(f for f in verdict.findings if f.check_id == "email.send.dmarc_fail")
    assert finding.severity is not None and finding.severity.value == "blocker"


def test_an_unsigned_message_says_dkim_is_missing(mail_dns: Sandbox) -> None:
    verdict = judge(mail_dns, message(SENDER))
    assert "email.send.dkim_missing" in ids(verdict)
    assert verdict.dmarc is not None and verdict.dmarc.result == "pass"  # SPF, aligned, carries it


def test_a_body_length_tag_is_reported(mail_dns: Sandbox) -> None:
    verdict = judge(mail_dns, signed(message(SENDER), length=True))
    assert verdict.dkim[0].passed and verdict.dkim[0].body_length is not None
    assert "email.send.dkim_length" in ids(verdict)


def test_a_key_lookup_that_fails_is_a_temporary_error_not_a_missing_key(mail_dns: Sandbox) -> None:
    verdict = judge(mail_dns, signed(message(BROKEN_KEYS), domain=BROKEN_KEYS), mail_from=f"b@{BROKEN_KEYS}")
    assert verdict.dkim[0].result == "temperror"
    assert "email.send.dkim_dns_failure" in ids(verdict)
    assert "email.send.dkim_key_missing" not in ids(verdict)


def test_a_signature_for_a_selector_with_no_key_is_key_missing(mail_dns: Sandbox) -> None:
    raw = message(SENDER)
    key = sender_keys().key_2048
    raw = dkim.sign(raw, b"gone", SENDER.encode(), key, include_headers=SIGNED_HEADERS) + raw
    verdict = judge(mail_dns, raw)
    assert (verdict.dkim[0].result, verdict.dkim[0].problem) == ("permerror", "key_missing")
    assert "email.send.dkim_key_missing" in ids(verdict)


def test_the_sandbox_variants_sign_what_they_claim(mail_dns: Sandbox) -> None:
    assert judge(mail_dns, build_message("aligned", "x@example.test", sender_keys())).dkim[0].passed
    expired = judge(mail_dns, build_message("expired", "x@example.test", sender_keys())).dkim[0]
    assert expired.problem == "expired" and expired.expires is not None


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (b"", set()),
        (b"Precedence: bulk\r\n", {"email.send.unsubscribe_missing"}),
        (b"List-Unsubscribe: <https://sends-mail.test/u/1>\r\n", {"email.send.unsubscribe_missing"}),
        (
            b"List-Unsubscribe: <https://sends-mail.test/u/1>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
            set(),
        ),
    ],
)
def test_bulk_mail_needs_one_click_unsubscribe(mail_dns: Sandbox, extra: bytes, expected: set[str]) -> None:
    verdict = judge(mail_dns, signed(message(SENDER, extra=extra)))
    assert ids(verdict) & {"email.send.unsubscribe_missing"} == expected


def test_broken_date_message_id_and_from_are_findings(mail_dns: Sandbox) -> None:
    raw = b"From: nobody\r\nTo: x@example.test\r\nDate: yesterday-ish\r\nMessage-ID: not-an-id\r\n\r\nHi\r\n"
    verdict = judge(mail_dns, raw)
    assert {"email.send.from_invalid", "email.send.date_invalid", "email.send.message_id_invalid"} <= ids(verdict)
    assert verdict.dmarc is None  # without one From domain there is nothing to align with
    assert not verdict.passed


HOSTILE = {
    "malformed MIME": (
        b"From: App <hello@sends-mail.test>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
        b"Message-ID: <m.1@sends-mail.test>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="never-there"\r\n\r\nno parts at all\r\n'
    ),
    "non-UTF-8 headers": (
        b"From: Caf\xe9 \xff\xfe <hello@sends-mail.test>\r\nSubject: r\xe9sum\xe9 \x80\x81\r\n"
        b"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m.2@sends-mail.test>\r\n\r\nbody \xff\r\n"
    ),
    "a header line with no colon": b"From hello@sends-mail.test\r\nthis is not a header\r\n\r\nbody\r\n",
    "nothing but garbage": bytes(range(256)) * 8,
    "an empty message": b"",
    "a broken DKIM signature": b"DKIM-Signature: v=1; a=rsa-sha256; d=\r\n" + message(SENDER),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_message_is_judged_never_crashes(mail_dns: Sandbox, name: str) -> None:
    verdict = judge(mail_dns, HOSTILE[name])
    data = verdict_data(verdict)
    text = json.dumps(data)  # what the database is given: valid JSON, no lone surrogates
    text.encode("utf-8")
    assert data["findings"], name
    if name == "malformed MIME":
        assert "email.send.malformed" in ids(verdict)
    if name == "non-UTF-8 headers":
        assert verdict.headers.from_domain == SENDER
        assert "\ufffd" in verdict.headers.subject or "?" in verdict.headers.subject
    if name == "a broken DKIM signature":
        assert "email.send.dkim_malformed" in ids(verdict)


def test_json_safe_replaces_what_postgres_refuses() -> None:
    safe = json_safe({"a": "x\udce9\x00y", "b": ["\ud800"]})
    assert safe["a"] == "x\ufffd y"
    assert set(safe["b"][0]) == {"\ufffd"}
    json.dumps(safe).encode("utf-8")


def test_the_spf_fix_adds_the_sender_before_the_all() -> None:
    assert spf_with("v=spf1 include:_spf.google.com ~all", "127.0.77.99") == (
        "v=spf1 include:_spf.google.com ip4:127.0.77.99 ~all"
    )
    assert spf_with(None, "2001:db8::1") == "v=spf1 ip6:2001:db8::1 ~all"
