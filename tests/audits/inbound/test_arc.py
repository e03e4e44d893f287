"""The ARC chain of a received message, verified by dkimpy with the sealers' keys looked up through net.py against
sandbox DNS: an intact chain passes and names its sealer, a broken seal is an informational finding (more when
DMARC fails too), a key DNS cannot give is a temporary error, and hostile ARC headers end in a result, never a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from audits.inbound.arc import MAX_SETS, ArcResult, verify_arc
from audits.inbound.verdict import Envelope, MessageVerdict, message_verdict
from audits.models import SendFinding
from launchready.net import Net
from launchready.sandbox.dns_server import ZoneData
from launchready.sandbox.mail_sender import (
    ARC_SELECTOR,
    FORWARDER,
    GOOD_IP,
    SENDER,
    SENDER_HOST,
    add_sender_records,
    arc_seal,
    build_message,
    send,
    sender_keys,
)
from launchready.sandbox.runner import Sandbox
from tests.audits.inbound.conftest import Running
from tests.audits.inbound.test_receiver import verdict_of
from tests.audits.inbound.test_verdict import message

BROKEN_FORWARDER = "broken-forwarder.test"  # its ARC key lookup fails (SERVFAIL)


@pytest.fixture(scope="module")
def arc_dns() -> Iterator[Sandbox]:
    zone = ZoneData()
    add_sender_records(zone, sender_keys())
    zone.behave(f"{ARC_SELECTOR}._domainkey.{BROKEN_FORWARDER}", servfail=True)
    with Sandbox(zone) as sandbox:
        yield sandbox


def arc_of(sandbox: Sandbox, raw: bytes) -> ArcResult:
    async def run() -> ArcResult:
        async with Net(sandbox.net_config()) as net:
            return await verify_arc(net, raw)

    return asyncio.run(run())


def judge(sandbox: Sandbox, raw: bytes) -> MessageVerdict:
    async def run() -> MessageVerdict:
        async with Net(sandbox.net_config()) as net:
            envelope = Envelope(peer=GOOD_IP, helo=SENDER_HOST, mail_from=f"bounce@{SENDER}", tls_version="TLSv1.3")
            return await message_verdict(net, raw, envelope)

    return asyncio.run(run())


def test_an_intact_chain_passes_and_names_its_sealer(
    receiver: Running, issued: tuple[object, str], world_sandbox: Sandbox
) -> None:
    send("arc_sealed", issued[1], host="127.0.0.1", port=receiver.port, keys=sender_keys())
    verdict = verdict_of(receiver.stored[0], world_sandbox).verdict
    arc = verdict["results"]["arc"]
    assert (arc["result"], arc["instances"], arc["sealer"]) == ("pass", 1, FORWARDER)
    assert arc["sets"][0]["seal_valid"] and arc["sets"][0]["signature_valid"]
    assert not {f["check_id"] for f in verdict["findings"]} & {"email.send.arc_broken", "email.send.arc_dns_failure"}


def test_a_broken_seal_is_an_informational_finding_on_the_risk_list(
    receiver: Running, issued: tuple[object, str], world_sandbox: Sandbox
) -> None:
    send("arc_broken", issued[1], host="127.0.0.1", port=receiver.port, keys=sender_keys())
    verdict = verdict_of(receiver.stored[0], world_sandbox).verdict
    arc = verdict["results"]["arc"]
    assert (arc["result"], arc["instances"], arc["sealer"]) == ("fail", 1, FORWARDER)
    assert arc["detail"] == f"the seal of {FORWARDER} (set 1) does not verify"
    finding = next(f for f in verdict["findings"] if f["check_id"] == "email.send.arc_broken")
    assert finding["severity"] == "info"
    assert "passes DMARC on its own" in finding["params"]["consequence"]
    row = SendFinding.objects.get(message_id=receiver.stored[0], check_id="email.send.arc_broken")
    assert row.title == f"A forwarder's seal on this email is broken (ARC, {FORWARDER})"
    assert "does not verify" in row.explanation and row.fix


def test_a_broken_seal_on_an_email_that_fails_dmarc_matters_more(arc_dns: Sandbox) -> None:
    raw = arc_seal(build_message("misaligned_from", "x@example.test", sender_keys()), sender_keys(), broken=True)
    verdict = judge(arc_dns, raw)
    assert verdict.dmarc is not None and verdict.dmarc.result == "fail"
    finding = next(f for f in verdict.findings if f.check_id == "email.send.arc_broken")
    assert finding.severity is not None and finding.severity.value == "medium"
    assert "also fails DMARC" in finding.params["consequence"]


def test_an_email_without_arc_has_none(arc_dns: Sandbox) -> None:
    result = arc_of(arc_dns, build_message("aligned", "x@example.test", sender_keys()))
    assert (result.result, result.instances, result.sealer) == ("none", 0, "")


def test_a_sealer_without_a_published_key_is_named(arc_dns: Sandbox) -> None:
    sealed = arc_seal(build_message("aligned", "x@example.test", sender_keys()), sender_keys())
    result = arc_of(arc_dns, sealed.replace(b"s=arc;", b"s=gone;"))
    assert result.result == "fail"
    assert result.detail.startswith(f"there is no key at gone._domainkey.{FORWARDER}")


def test_a_sealer_key_dns_cannot_give_is_a_temporary_error(arc_dns: Sandbox) -> None:
    sealed = arc_seal(build_message("aligned", "x@example.test", sender_keys()), sender_keys())
    verdict = judge(arc_dns, sealed.replace(f"d={FORWARDER}".encode(), f"d={BROKEN_FORWARDER}".encode()))
    assert verdict.arc.result == "temperror" and verdict.arc.sealer == BROKEN_FORWARDER
    assert f"{ARC_SELECTOR}._domainkey.{BROKEN_FORWARDER}" in verdict.arc.detail
    assert "email.send.arc_dns_failure" in {f.check_id for f in verdict.findings}
    assert "email.send.arc_broken" not in {f.check_id for f in verdict.findings}


def test_a_message_changed_after_sealing_breaks_the_latest_signature(arc_dns: Sandbox) -> None:
    sealed = arc_seal(build_message("aligned", "x@example.test", sender_keys()), sender_keys())
    result = arc_of(arc_dns, sealed.rstrip(b"\r\n") + b"\r\nA footer added after the seal\r\n")
    assert result.result == "fail"
    assert "changed after" in result.detail and "ARC-Message-Signature" in result.detail


SEAL = b"ARC-Seal: i=1; cv=none; a=rsa-sha256; d=forwards-mail.test; s=arc; b=AAAA\r\n"
AMS = b"ARC-Message-Signature: i=1; a=rsa-sha256; d=forwards-mail.test; s=arc; h=from; bh=AAAA; b=AAAA\r\n"
AAR = b"ARC-Authentication-Results: i=1; lists.forwards-mail.test; dkim=pass\r\n"
HOSTILE_ARC = {
    "a seal on its own": (SEAL, "does not have exactly one seal"),
    "no instance number": (SEAL.replace(b"i=1; ", b"") + AMS + AAR, "no readable instance number"),
    "an instance of 99": ((SEAL + AMS + AAR).replace(b"i=1;", b"i=99;"), "at most 50"),
    "a gap in the numbers": (SEAL + AMS + AAR + (SEAL + AMS + AAR).replace(b"i=1;", b"i=3;"), "without gaps"),
    "garbage tags": (b"ARC-Seal: \xff\xfe;;;==\r\n" + AMS + AAR, "no readable instance number"),
    "signatures that are not base64": (SEAL + AMS + AAR, ""),
    "a chain too long to check": (SEAL * (MAX_SETS + 1), f"at most {MAX_SETS} are checked"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_ARC))
def test_hostile_arc_headers_end_in_a_result(arc_dns: Sandbox, name: str) -> None:
    headers, detail = HOSTILE_ARC[name]
    result = arc_of(arc_dns, headers + message(SENDER))
    expected = "unchecked" if name == "a chain too long to check" else "fail"
    assert result.result == expected, result.detail
    assert result.instances >= 1
    assert detail in result.detail and result.detail
    verdict = judge(arc_dns, headers + message(SENDER))  # the whole verdict stands as well
    assert verdict.arc.result == expected
