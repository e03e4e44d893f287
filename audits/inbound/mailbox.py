"""Received messages at rest: stored encrypted with what the SMTP session showed, wiped after their retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils.timezone import now

from audits.models import MailAddress, ReceivedMessage


@dataclass(frozen=True)
class Session:
    """What the receiver saw of the sender, apart from the message itself."""

    peer: str
    helo: str = ""
    mail_from: str = ""
    tls_version: str = ""
    tls_cipher: str = ""


def messages_last_hour(address_id: int) -> int:
    return ReceivedMessage.objects.filter(address_id=address_id, received__gt=now() - timedelta(hours=1)).count()


def message_store(
    *, address_id: int, recipient: str, session: Session, raw: bytes, retention_days: int
) -> ReceivedMessage:
    """Keep one accepted message for one issued address, encrypted, to be wiped after `retention_days`."""
    received = now()
    message = ReceivedMessage(
        address_id=address_id,
        received=received,
        peer=session.peer,
        helo=session.helo[:255],
        mail_from=session.mail_from[:320],
        recipient=recipient[:320],
        tls_version=session.tls_version[:16],
        tls_cipher=session.tls_cipher[:100],
        size=len(raw),
        wipe_after=received + timedelta(days=retention_days),
    )
    message.raw = raw
    with transaction.atomic():
        message.save()
    return message


def messages_wipe_expired() -> int:
    """Wipe the content of every message past its retention (the row and its verdict stay); how many."""
    return ReceivedMessage.objects.filter(wipe_after__lte=now()).exclude(content="").update(content="")


def address_of(message: ReceivedMessage) -> MailAddress:
    return MailAddress.objects.select_related("client").get(id=message.address_id)
