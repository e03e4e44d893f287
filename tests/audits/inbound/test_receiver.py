"""The receiver, through real SMTP on loopback: the sandbox sender's variants get their verdicts; addresses it
never issued, relaying, oversized messages, too many recipients, connections or messages, and a client that
drips bytes are refused or cut off; messages are kept encrypted and wiped after their retention."""

from __future__ import annotations

import smtplib
import socket
import time
from datetime import timedelta

import pytest
from django.utils.timezone import now

from audits.inbound.addresses import address_text, dmarc_address_for
from audits.inbound.dmarc_reports import reports_in
from audits.inbound.limits import ReceiverLimits
from audits.inbound.mailbox import messages_wipe_expired
from audits.inbound.verification import received_message_verify
from audits.models import MailAddress, ReceivedMessage, SendFinding
from launchready.sandbox.blocklists import LISTED_IP
from launchready.sandbox.dmarc_reports import Source, aggregate_xml, gzipped, report_email
from launchready.sandbox.mail_sender import GOOD_IP, SENDER, SENDER_HOST, VARIANTS, build_message, send, sender_keys
from launchready.sandbox.runner import Sandbox
from tests.audits.inbound.conftest import MAIL_DOMAIN, Running, start_receiver, stop_receiver
from tests.audits.inbound.test_verdict import HOSTILE
from tests.conftest import wait_until

# What a receiving server holds against each variant (info findings aside), and whether DMARC passes.
EXPECTED: dict[str, tuple[set[str], bool]] = {
    "aligned": (set(), True),
    "misaligned_from": ({"email.send.dmarc_fail"}, False),
    "body_hash": ({"email.send.dkim_body_hash"}, True),  # SPF still passes, aligned: DMARC holds
    "expired": ({"email.send.dkim_expired"}, True),
    "key_1024": ({"email.send.dkim_key_1024"}, True),
    "spf_fail": ({"email.send.spf_fail", "email.send.no_reverse_dns"}, True),  # DKIM, aligned, saves DMARC
    "no_tls": ({"email.send.no_tls"}, True),
    "arc_sealed": (set(), True),
    "arc_broken": (set(), True),  # the broken seal is informational: DMARC passes on the sender's own DKIM and SPF
    "listed_link": ({"email.send.link_listed"}, True),
    "listed_address": ({"email.send.address_listed"}, True),
}


def verdict_of(message_id: int, sandbox: Sandbox) -> ReceivedMessage:
    message = received_message_verify(message_id, config=sandbox.net_config())
    assert message is not None
    return message


def refusal(port: int, rcpt: str, *, source: str = GOOD_IP) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, local_hostname=SENDER_HOST, source_address=(source, 0), timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail(f"bounce@{SENDER}")
        return smtp.rcpt(rcpt)


def send_raw(port: int, rcpt: str, raw: bytes) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, local_hostname=SENDER_HOST, source_address=(GOOD_IP, 0), timeout=20) as smtp:
        smtp.ehlo()
        smtp.mail(f"bounce@{SENDER}")
        code, reply = smtp.rcpt(rcpt)
        assert code == 250, reply
        return smtp.data(raw)


def test_the_sandbox_sender_covers_every_variant() -> None:
    assert set(EXPECTED) == set(VARIANTS)


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_gets_its_verdict(
    receiver: Running, issued: tuple[MailAddress, str], world_sandbox: Sandbox, variant: str
) -> None:
    address, text = issued
    reply = send(variant, text, host="127.0.0.1", port=receiver.port, keys=sender_keys())
    assert reply.startswith("250 ")
    assert len(receiver.stored) == 1
    message = verdict_of(receiver.stored[0], world_sandbox)
    findings = {f["check_id"]: f for f in message.verdict["findings"]}
    serious = {check_id for check_id, f in findings.items() if f["severity"] != "info"}
    expected, dmarc_passes = EXPECTED[variant]
    assert serious == expected
    assert ("email.send.authenticated" in findings) is dmarc_passes
    assert message.verdict["passed"] is (not any(findings[c]["severity"] in ("blocker", "high") for c in serious))
    assert message.state == ReceivedMessage.State.VERIFIED
    assert message.address_id == address.id
    assert (message.tls_version != "") is (variant != "no_tls")
    assert message.peer == {"spf_fail": "127.0.77.99", "listed_address": LISTED_IP}.get(variant, GOOD_IP)


def test_a_misaligned_from_is_a_blocker_under_the_brands_quarantine_policy(
    receiver: Running, issued: tuple[MailAddress, str], world_sandbox: Sandbox
) -> None:
    send("misaligned_from", issued[1], host="127.0.0.1", port=receiver.port, keys=sender_keys())
    finding = next(f for f in verdict_of(receiver.stored[0], world_sandbox).verdict["findings"])
    assert finding["check_id"] == "email.send.dmarc_fail"
    assert finding["severity"] == "blocker"
    assert finding["params"]["policy"] == "quarantine"
    assert finding["params"]["dkim_domains"] == [SENDER]
    assert finding["evidence"]["spf_aligned"] is False and finding["evidence"]["dkim_aligned"] is False


def test_the_message_is_kept_encrypted_and_reads_back_whole(receiver: Running, issued: tuple[MailAddress, str]) -> None:
    raw = build_message("aligned", issued[1], sender_keys())
    code, _ = send_raw(receiver.port, issued[1], raw)
    assert code == 250
    message = ReceivedMessage.objects.get(id=receiver.stored[0])
    assert b"Confirm your email" not in message.content.encode()
    assert message.raw == raw
    assert message.size == len(raw)
    assert message.helo == SENDER_HOST
    assert message.mail_from == f"bounce@{SENDER}"


def test_an_address_it_never_issued_is_refused_with_550(receiver: Running, issued: tuple[MailAddress, str]) -> None:
    code, reply = refusal(receiver.port, f"test-{'a' * 24}@{MAIL_DOMAIN}")
    assert code == 550 and b"5.1.1" in reply
    code, _ = refusal(receiver.port, f"postmaster@{MAIL_DOMAIN}")
    assert code == 550
    assert receiver.stored == []


def test_it_never_relays(receiver: Running, issued: tuple[MailAddress, str]) -> None:
    local = issued[1].split("@")[0]
    for rcpt in (f"{local}@gmail.example", f"someone@{SENDER}", f"{local}@{MAIL_DOMAIN}.evil.example"):
        code, reply = refusal(receiver.port, rcpt)
        assert (code, reply[:5]) == (550, b"5.7.1"), rcpt


def test_an_expired_test_address_is_refused(receiver: Running, issued: tuple[MailAddress, str]) -> None:
    address, text = issued
    MailAddress.objects.filter(id=address.id).update(expires=now() - timedelta(minutes=1))
    assert refusal(receiver.port, text)[0] == 550


def test_the_dmarc_report_address_takes_mail(receiver: Running, issued: tuple[MailAddress, str]) -> None:
    reports = address_text(dmarc_address_for(issued[0].client), MAIL_DOMAIN)
    assert reports.startswith("dmarc-")
    assert refusal(receiver.port, reports)[0] == 250


def test_a_10_mb_message_is_refused_with_552_and_not_kept(receiver: Running, issued: tuple[MailAddress, str]) -> None:
    raw = build_message("aligned", issued[1], sender_keys()) + (b"x" * 998 + b"\r\n") * 10_500
    code, _ = send_raw(receiver.port, issued[1], raw)
    assert code == 552
    assert receiver.stored == [] and not ReceivedMessage.objects.exists()


def test_too_many_recipients_get_452(receiver: Running, issued: tuple[MailAddress, str]) -> None:
    with smtplib.SMTP("127.0.0.1", receiver.port, source_address=(GOOD_IP, 0), timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail(f"bounce@{SENDER}")
        codes = [smtp.rcpt(issued[1])[0] for _ in range(6)]
    assert codes == [250] * 5 + [452]


def test_an_address_past_its_hours_share_gets_450(transactional_db: None, issued: tuple[MailAddress, str]) -> None:
    loop, running = start_receiver(ReceiverLimits(messages_per_address_per_hour={MailAddress.Kind.SEND_TEST: 2}))
    try:
        raw = build_message("aligned", issued[1], sender_keys())
        assert [send_raw(running.port, issued[1], raw)[0] for _ in range(2)] == [250, 250]
        assert refusal(running.port, issued[1])[0] == 450
    finally:
        stop_receiver(loop, running)


def connect(port: int, source: str) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))


def test_a_second_connection_from_one_address_gets_421(transactional_db: None) -> None:
    loop, running = start_receiver(ReceiverLimits(max_connections_per_peer=1))
    try:
        with socket.create_connection(("127.0.0.1", running.port), timeout=5, source_address=(GOOD_IP, 0)) as first:
            assert first.recv(200).startswith(b"220 ")
            with socket.create_connection(
                ("127.0.0.1", running.port), timeout=5, source_address=(GOOD_IP, 0)
            ) as second:
                assert second.recv(200).startswith(b"421 ")
            with socket.create_connection(
                ("127.0.0.1", running.port), timeout=5, source_address=("127.0.77.11", 0)
            ) as other:
                assert other.recv(200).startswith(b"220 ")
        assert wait_until(lambda: running.receiver.gate.open == 0, timeout=5)
    finally:
        stop_receiver(loop, running)


def test_a_connection_that_drips_bytes_is_cut_off(receiver: Running) -> None:
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sock:
        assert sock.recv(200).startswith(b"220 ")
        started = time.monotonic()
        closed = False
        for byte in b"EHLO slow.example.test\r\n":
            try:
                sock.sendall(bytes([byte]))
                time.sleep(0.3)
                sock.settimeout(0.01)
                if sock.recv(200) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
            finally:
                sock.settimeout(5)
        assert closed, "the receiver kept a dripping connection open"
        assert time.monotonic() - started < 6  # the command limit is 2 s
    assert wait_until(lambda: receiver.receiver.gate.open == 0, timeout=5)


def test_a_wiped_message_keeps_its_verdict(
    receiver: Running, issued: tuple[MailAddress, str], world_sandbox: Sandbox
) -> None:
    send("aligned", issued[1], host="127.0.0.1", port=receiver.port, keys=sender_keys())
    verdict_of(receiver.stored[0], world_sandbox)
    assert messages_wipe_expired() == 0
    ReceivedMessage.objects.update(wipe_after=now() - timedelta(seconds=1))
    assert messages_wipe_expired() == 1
    message = ReceivedMessage.objects.get()
    assert message.content == "" and message.raw == b""
    assert message.verdict["passed"] is True
    assert received_message_verify(message.id) is None
    assert ReceivedMessage.objects.get().state == ReceivedMessage.State.VERIFIED  # its verdict stands


@pytest.mark.parametrize("name", ["malformed MIME", "non-UTF-8 headers", "a header line with no colon"])
def test_a_hostile_message_through_the_receiver_is_kept_and_judged(
    receiver: Running, issued: tuple[MailAddress, str], world_sandbox: Sandbox, name: str
) -> None:
    code, _ = send_raw(receiver.port, issued[1], HOSTILE[name])
    assert code == 250
    message = verdict_of(receiver.stored[0], world_sandbox)
    stored = ReceivedMessage.objects.get(id=message.id)  # the verdict as PostgreSQL kept it
    assert stored.state == ReceivedMessage.State.VERIFIED
    assert stored.verdict["findings"] and stored.verdict["passed"] is False


def test_a_dmarc_report_mailed_to_the_rua_address_is_read_and_not_judged_as_a_real_send(
    receiver: Running, issued: tuple[MailAddress, str]
) -> None:
    rua = address_text(dmarc_address_for(issued[0].client), MAIL_DOMAIN)
    xml = aggregate_xml(SENDER, [Source(GOOD_IP, 42)])
    raw = report_email(rua, SENDER, gzipped(xml), name="report.xml.gz", content_type="application/gzip")
    assert send_raw(receiver.port, rua, raw)[0] == 250
    message = ReceivedMessage.objects.get(id=receiver.stored[0])
    read = received_message_verify(message.id)
    assert read is not None and "findings" not in read.verdict  # not a real send: no email verdict
    assert read.verdict == {"reports": 0, "duplicates": 0, "ignored": 1, "problems": []}  # not the client's domain
    assert not SendFinding.objects.exists()
    reports, problems = reports_in(message.raw)
    assert problems == [] and [(r.source_ip, r.count) for r in reports[0].records] == [(GOOD_IP, 42)]


def test_a_mailbox_it_never_made_or_a_token_under_the_other_prefix_gets_550(
    receiver: Running, issued: tuple[MailAddress, str]
) -> None:
    address, _ = issued
    reports = dmarc_address_for(address.client)
    for rcpt in (
        f"dmarc-{'b' * 24}@{MAIL_DOMAIN}",  # shaped like a report mailbox, never made
        f"dmarc-{address.token}@{MAIL_DOMAIN}",  # a test address's token is not a report mailbox
        f"test-{reports.token}@{MAIL_DOMAIN}",  # nor the other way round
        f"test-{address.token}x@{MAIL_DOMAIN}",
        f"{address.token}@{MAIL_DOMAIN}",
    ):
        code, reply = refusal(receiver.port, rcpt)
        assert (code, reply[:5]) == (550, b"5.1.1"), rcpt
    assert receiver.stored == []
