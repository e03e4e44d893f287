"""An SMTP sink on loopback (aiosmtpd): accepts every message and keeps it for reading."""

from __future__ import annotations

import email
import email.policy
import threading
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        message = email.message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(), policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from or "", list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 Message accepted"


class SmtpSink:
    """Start with `with SmtpSink() as sink:`; `sink.port` is where to send, `sink.messages` what arrived."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._collector = _Collector()
        self._controller = Controller(self._collector, hostname=host, port=port or _free_port(host))
        self.host = host

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self._collector.messages

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        """(MAIL FROM, RCPT TO) of each message, in the order of `messages`."""
        return self._collector.envelopes

    def received_by(self, address: str) -> list[EmailMessage]:
        """What reached this address's mailbox: the messages whose envelope named it."""
        with self._collector._arrived:
            pairs = list(zip(self._collector.messages, self._collector.envelopes, strict=True))
        return [message for message, (_, rcpts) in pairs if address.lower() in (r.lower() for r in rcpts)]

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """Block until `count` messages have arrived (or the timeout passes) and return them all."""
        with self._collector._arrived:
            self._collector._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
        return list(self.messages)

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._controller.stop()


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def html_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""
