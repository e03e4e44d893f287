"""A client's real-send test as the page shows it: the address to send to, whether mail has come, and the verdict
of what came, each finding in the catalog's words."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.header import decode_header, make_header
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.utils.timezone import now

from audits.catalog import render
from audits.findings import Finding, Severity
from audits.inbound.addresses import address_text
from audits.inbound.summary import CheckLine, check_lines
from audits.inbound.text import clean
from audits.models import MailAddress, ReceivedMessage
from launchready.models import Client

MESSAGES_SHOWN = 3


class SendTestState(StrEnum):
    NONE = "none"  # no test address issued yet
    WAITING = "waiting"  # an address is out, nothing has arrived
    CHECKING = "checking"  # a message arrived and is being judged
    DONE = "done"  # the latest message has its verdict
    EXPIRED = "expired"  # the address expired with nothing sent to it

    @property
    def live(self) -> bool:
        """The page keeps asking while mail may still arrive or be judged."""
        return self in (SendTestState.WAITING, SendTestState.CHECKING)


@dataclass
class ShownFinding:
    check_id: str
    severity: str
    title: str
    explanation: str
    fix: str
    evidence: dict[str, Any]


@dataclass
class ShownMessage:
    message: ReceivedMessage
    passed: bool | None  # None while it is being judged, or when it could not be
    findings: list[ShownFinding] = field(default_factory=list)
    checks: list[CheckLine] = field(default_factory=list)  # ARC and blocklists, in plain English
    subject: str = ""  # as the recipient reads it, so that one email is told from the next


@dataclass
class SendTest:
    state: SendTestState
    receiver_on: bool
    address: MailAddress | None = None
    address_text: str = ""
    messages: list[ShownMessage] = field(default_factory=list)
    received: int = 0  # every message the address took, shown or not

    @property
    def not_shown(self) -> int:
        return self.received - len(self.messages)

    @property
    def latest(self) -> ShownMessage | None:
        return self.messages[0] if self.messages else None


def _decoded(subject: str) -> str:
    """An RFC 2047 encoded subject as its reader sees it; the text as kept when it does not decode."""
    try:
        return clean(str(make_header(decode_header(subject))), 200)
    except (ValueError, LookupError, UnicodeError):
        return subject


def _shown(message: ReceivedMessage) -> ShownMessage:
    if message.state != ReceivedMessage.State.VERIFIED:
        return ShownMessage(message, None)
    findings = []
    for row in message.verdict.get("findings", []):
        finding = Finding(row["check_id"], row.get("subject", ""), row.get("evidence") or {}, row.get("params") or {})
        text = render(finding)
        severity = row.get("severity", Severity.INFO.value)
        findings.append(ShownFinding(row["check_id"], severity, **text, evidence=finding.evidence))
    findings.sort(key=lambda f: Severity(f.severity).rank)
    results = message.verdict.get("results")
    checks = check_lines(results)
    headers = results.get("headers") if isinstance(results, dict) else None
    subject = _decoded(str(headers.get("subject") or "")) if isinstance(headers, dict) else ""
    return ShownMessage(message, bool(message.verdict.get("passed")), findings, checks, subject)


def send_test_for(client: Client) -> SendTest:
    """The client's latest real-send test and the last few messages sent to it."""
    config = settings.LAUNCHREADY_MAIL_RECEIVER
    address = (
        MailAddress.objects.filter(client=client, kind=MailAddress.Kind.SEND_TEST).order_by("-created", "-id").first()
    )
    if address is None:
        return SendTest(SendTestState.NONE, config.enabled)
    messages = [_shown(m) for m in address.messages.order_by("-received", "-id")[:MESSAGES_SHOWN]]
    received = address.messages.count() if len(messages) == MESSAGES_SHOWN else len(messages)
    if not messages:
        expired = address.expires is not None and address.expires <= now()
        state = SendTestState.EXPIRED if expired else SendTestState.WAITING
    elif messages[0].message.state == ReceivedMessage.State.RECEIVED:
        state = SendTestState.CHECKING
    else:
        state = SendTestState.DONE
    return SendTest(state, config.enabled, address, address_text(address, config.domain), messages, received)
