"""A stored message's verdict: read it back, judge it through net.py and keep the verdict on its row."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.db import transaction
from django.utils.timezone import now

from audits.catalog import severity_of
from audits.inbound.dmarc_store import dmarc_message_record
from audits.inbound.send_findings import send_findings_record
from audits.inbound.source_hosts import sources_look_up
from audits.inbound.text import clean
from audits.inbound.verdict import Envelope, MessageVerdict, message_verdict
from audits.models import MailAddress, ReceivedMessage
from launchready.crypto import DecryptionError
from launchready.net import Net, NetConfig

log = logging.getLogger(__name__)

DEADLINE = 40.0  # seconds for every DNS question of one verdict (the task's soft limit is above it)


def json_safe(value: Any) -> Any:
    """The verdict as JSON the database takes: every string valid Unicode without control characters."""
    if isinstance(value, str):
        return clean(value, 2000)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return clean(str(value), 2000)


def verdict_data(verdict: MessageVerdict) -> dict[str, Any]:
    findings = [
        {
            "check_id": f.check_id,
            "subject": f.subject,
            "severity": severity_of(f).value,
            "params": f.params,
            "evidence": f.evidence,
        }
        for f in verdict.findings
    ]
    return json_safe({"passed": verdict.passed, "findings": findings, "results": verdict.results()})


def envelope_of(message: ReceivedMessage) -> Envelope:
    return Envelope(
        peer=message.peer,
        helo=message.helo,
        mail_from=message.mail_from,
        tls_version=message.tls_version,
        received=message.received,
    )


async def _judge(raw: bytes, envelope: Envelope, config: NetConfig | None) -> MessageVerdict:
    async with Net(config, deadline=DEADLINE) as net:
        return await message_verdict(net, raw, envelope)


def _dmarc_reports_record(message: ReceivedMessage, config: NetConfig | None) -> ReceivedMessage | None:
    """A report email is not a real send: its reports are kept, then their source addresses named."""
    if message.state != ReceivedMessage.State.RECEIVED:
        return None  # read before (a retried task): its reports are in
    found = dmarc_message_record(message)
    if found.kept:
        sources_look_up(message.address.client_id, config=config)
    return message


def received_message_verify(message_id: int, *, config: NetConfig | None = None) -> ReceivedMessage | None:
    """Judge a stored message and keep its verdict, with its findings recorded for the client's risk list; None
    when there is no such message or nothing left to read."""
    message = ReceivedMessage.objects.select_related("address").filter(id=message_id).first()
    if message is None:
        return None
    if message.address.kind == MailAddress.Kind.DMARC_REPORTS:
        return _dmarc_reports_record(message, config)
    try:
        raw = message.raw
    except DecryptionError:
        log.error("received message %s cannot be decrypted with the configured keys", message.code)
        raw = b""
    if not raw:
        # Wiped (its verdict, if it had one, stays) or unreadable before it was ever judged.
        ReceivedMessage.objects.filter(id=message.id, state=ReceivedMessage.State.RECEIVED).update(
            state=ReceivedMessage.State.FAILED, verified=now()
        )
        return None
    verdict = asyncio.run(_judge(raw, envelope_of(message), config))
    message.verdict = verdict_data(verdict)
    message.state = ReceivedMessage.State.VERIFIED
    message.verified = now()
    with transaction.atomic():
        message.save(update_fields=["verdict", "state", "verified"])
        send_findings_record(message, verdict.findings)
    return message
