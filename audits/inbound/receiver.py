"""The product's SMTP receiver (aiosmtpd): it takes mail only for the addresses it issued, never relays, offers
STARTTLS, bounds everything a sender controls and stores each message encrypted for its verdict.

Refusals happen during the session, before a byte of the message is accepted: 550 for an address it did not
issue (5.7.1 when the domain is not even its own: it relays nothing), 452 past the recipient limit, 450 when an
address has had its hour's share, 421 past the connection limits, 451 when a sender has sent its hour's share,
552 for a message over the size limit. A client that stays silent, or drips a command or the message slower
than the command time allows, is cut off; so is any session longer than the session limit.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from asgiref.sync import sync_to_async
from django.db import close_old_connections

from audits.inbound.addresses import Recipient, address_accepting, is_our_domain, parse_recipient
from audits.inbound.limits import ConnectionGate, ReceiverLimits, SlidingWindow
from audits.inbound.mailbox import Session, message_store, messages_last_hour
from launchready.config import MailReceiver

log = logging.getLogger(__name__)

IDENT = "Launch Ready mail receiver"


def tls_context(cert_path: str, key_path: str) -> ssl.SSLContext:
    """The context STARTTLS offers: the configured certificate chain and key, TLS 1.2 or later."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    return context


class _Envelope(Envelope):
    """aiosmtpd's envelope, with the issued address behind each accepted recipient."""

    def __init__(self) -> None:
        super().__init__()
        self.issued: list[tuple[int, str]] = []  # (MailAddress id, the recipient as the sender wrote it)


def _peer_address(session: SmtpSession) -> str:
    peer: Any = session.peer
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer or "")


def _tls_of(session: SmtpSession) -> tuple[str, str]:
    """(protocol version, cipher) when the session switched to TLS, else ("", "")."""
    extra = session.ssl or {}
    ssl_object = extra.get("ssl_object")
    if ssl_object is None:
        return "", ""
    cipher = ssl_object.cipher()
    return str(ssl_object.version() or ""), str(cipher[0]) if cipher else ""


def _rcpt_decision(recipient: Recipient, per_hour: dict[str, int]) -> tuple[int | None, str]:
    """(the issued address's id, "") when it takes this message, else (None, the SMTP reply)."""
    close_old_connections()
    address = address_accepting(recipient)
    if address is None:
        return None, "550 5.1.1 No such address here (it was never issued, or it has expired)"
    if messages_last_hour(address.id) >= per_hour.get(address.kind, 10):
        return None, "450 4.7.1 This address has received enough mail for now; try again later"
    return address.id, ""


def _store_all(receiver: Receiver, envelope: _Envelope, session: Session, raw: bytes) -> int:
    """Keep the message once per issued recipient and hand each to `on_stored`; how many were kept."""
    close_old_connections()
    for address_id, recipient in envelope.issued:
        message = message_store(
            address_id=address_id,
            recipient=recipient,
            session=session,
            raw=raw,
            retention_days=receiver.config.retention_days,
        )
        receiver.on_stored(message.id)
    return len(envelope.issued)


class _Handler:
    """aiosmtpd's hooks: RCPT decides whether an address is ours and takes mail, DATA stores the message."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    async def handle_RCPT(
        self, server: SMTP, session: SmtpSession, envelope: _Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        config, limits = self.receiver.config, self.receiver.limits
        if len(envelope.issued) >= limits.max_recipients:
            return "452 4.5.3 Too many recipients"
        recipient = parse_recipient(address, config.domain)
        if recipient is None:
            if not is_our_domain(address, config.domain):
                return "550 5.7.1 Relaying denied: this server takes mail only for its own addresses"
            return "550 5.1.1 No such address here (it was never issued, or it has expired)"
        address_id, refusal = await sync_to_async(_rcpt_decision)(recipient, limits.messages_per_address_per_hour)
        if address_id is None:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.issued.append((address_id, address))
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: _Envelope) -> str:
        receiver = self.receiver
        peer = _peer_address(session)
        if receiver.peer_messages.hit(peer) > receiver.limits.messages_per_peer_per_hour:
            return "451 4.7.1 Too many messages from your address; try again later"
        raw = envelope.original_content or b""
        tls_version, tls_cipher = _tls_of(session)
        facts = Session(
            peer=peer,
            helo=str(session.host_name or ""),
            mail_from=str(envelope.mail_from or ""),
            tls_version=tls_version,
            tls_cipher=tls_cipher,
        )
        kept = await sync_to_async(_store_all)(receiver, envelope, facts, bytes(raw))
        log.info("mail receiver: accepted a message of %d bytes for %d issued address(es)", len(raw), kept)
        return "250 2.0.0 Accepted"

    async def handle_exception(self, error: Exception) -> str:
        # One line naming the kind of failure; the sender learns nothing of the server's insides.
        log.error("mail receiver: a session failed (%s)", type(error).__name__)
        return "451 4.3.0 Temporary failure; try again later"


class _Smtp(SMTP):
    """aiosmtpd's SMTP with the connection limits and a cap on the length of a whole session."""

    def __init__(self, handler: _Handler, *, gate: ConnectionGate, session_seconds: float, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._gate = gate
        self._session_seconds = session_seconds
        self._counted_peer: str | None = None
        self._refusal: str | None = None
        self._cut_off: asyncio.TimerHandle | None = None

    def _create_envelope(self) -> _Envelope:
        return _Envelope()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None  # STARTTLS calls this again for the encrypted transport
        super().connection_made(transport)
        if not first or self.session is None:
            return
        peer = _peer_address(self.session)
        self._refusal = self._gate.admit(peer)
        if self._refusal is None:
            self._counted_peer = peer
        self._cut_off = self.loop.call_later(self._session_seconds, self._end_session)

    async def _handle_client(self) -> None:
        if self._refusal is not None:
            await self.push(f"421 4.7.0 {self._refusal.capitalize()}; try again later")
            if self.transport is not None:
                self.transport.close()
            return
        await super()._handle_client()

    def _end_session(self) -> None:
        if self.transport is not None:
            log.info("mail receiver: a session reached its time limit and was closed")
            self.transport.close()

    def connection_lost(self, error: Exception | None) -> None:
        if self._counted_peer is not None:
            self._gate.release(self._counted_peer)
            self._counted_peer = None
        if self._cut_off is not None:
            self._cut_off.cancel()
        super().connection_lost(error)


class Receiver:
    """The receiver on one address and port: `await start()`, `await stop()`; `on_stored(message id)` is called
    for every message kept (the command hands it to the verdict task)."""

    def __init__(
        self,
        config: MailReceiver,
        *,
        tls: ssl.SSLContext | None,
        limits: ReceiverLimits | None = None,
        on_stored: Callable[[int], None] = lambda message_id: None,
    ) -> None:
        if not config.enabled:
            raise ValueError("the mail receiver needs a mail domain (LAUNCHREADY_MAIL_DOMAIN)")
        self.config = config
        self.tls = tls
        self.limits = limits or ReceiverLimits()
        self.on_stored = on_stored
        self.gate = ConnectionGate(self.limits)
        self.peer_messages = SlidingWindow(3600)
        self.port = config.port
        self._server: asyncio.AbstractServer | None = None
        self._handler = _Handler(self)

    def _protocol(self) -> _Smtp:
        return _Smtp(
            self._handler,
            gate=self.gate,
            session_seconds=self.limits.session_seconds,
            data_size_limit=self.limits.max_message_bytes,
            enable_SMTPUTF8=True,
            hostname=self.config.domain,
            ident=IDENT,
            tls_context=self.tls,
            timeout=self.limits.command_seconds,
            command_call_limit=50,
            loop=asyncio.get_running_loop(),
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.config.host, self.config.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
