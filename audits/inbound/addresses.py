"""The addresses the receiver issues: a one-time address per real-send test and a client's DMARC report mailbox.
Only these are accepted; anything else is refused before the message is sent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils.timezone import now

from accounts.models import User
from audits.models import MailAddress
from launchready.models import Client

SEND_TEST_LIFETIME = timedelta(hours=24)  # a test address takes mail for a day after it is shown
_LOCAL = re.compile(r"(test|dmarc)-([a-z2-7]{24})")
_PREFIXES = {"test": MailAddress.Kind.SEND_TEST, "dmarc": MailAddress.Kind.DMARC_REPORTS}


@dataclass(frozen=True)
class Recipient:
    """A recipient the receiver could have issued: its kind and token (whether it did is the database's say)."""

    kind: str
    token: str


def split_address(address: str) -> tuple[str, str]:
    """(local part, domain lower-cased) of an SMTP path; ("", "") when it has no @."""
    text = address.strip().strip("<>").strip()
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return "", ""
    return local, domain.lower().rstrip(".")


def parse_recipient(address: str, mail_domain: str) -> Recipient | None:
    """The kind and token an address names, when it is shaped like one the receiver issues under `mail_domain`."""
    local, domain = split_address(address)
    if domain != mail_domain.lower():
        return None
    match = _LOCAL.fullmatch(local.lower())
    if match is None:
        return None
    return Recipient(_PREFIXES[match.group(1)], match.group(2))


def is_our_domain(address: str, mail_domain: str) -> bool:
    return split_address(address)[1] == mail_domain.lower()


def address_text(address: MailAddress, mail_domain: str) -> str:
    return f"{address.local_part}@{mail_domain}"


def address_accepting(recipient: Recipient) -> MailAddress | None:
    """The issued address a recipient names, while it still takes mail."""
    moment = now()
    return (
        MailAddress.objects.filter(token=recipient.token, kind=recipient.kind)
        .filter(Q(expires__isnull=True) | Q(expires__gt=moment))
        .first()
    )


def send_test_address_issue(*, client: Client, user: User | None = None) -> MailAddress:
    """A new one-time address for a real-send test of this client, taking mail for SEND_TEST_LIFETIME."""
    created = now()
    return MailAddress.objects.create(
        client=client,
        kind=MailAddress.Kind.SEND_TEST,
        created=created,
        expires=created + SEND_TEST_LIFETIME,
        created_by=user,
    )


def dmarc_address_for(client: Client) -> MailAddress:
    """The client's DMARC report mailbox (made on first use; it never expires)."""
    # The first made, should two audits have made one each at once: the address a record names never changes.
    address = MailAddress.objects.filter(client=client, kind=MailAddress.Kind.DMARC_REPORTS).order_by("id").first()
    return address or MailAddress.objects.create(client=client, kind=MailAddress.Kind.DMARC_REPORTS)
