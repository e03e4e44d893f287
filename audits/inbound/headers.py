"""What the headers of a received message say, apart from DKIM: the From address (the one DMARC protects), Date,
Message-ID, List-Unsubscribe and one-click unsubscribe for bulk mail, and whether the MIME structure is sound."""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

from audits.inbound.text import clean

MAX_DEFECTS = 10
DATE_SKEW = timedelta(hours=24)
_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")
_BULK_PRECEDENCE = {"bulk", "list", "junk"}
_ONE_CLICK = "list-unsubscribe=one-click"


@dataclass
class HeaderFacts:
    from_header: str = ""
    from_domain: str = ""  # the author domain DMARC is evaluated for; "" when there is not exactly one
    from_problem: str = ""
    subject: str = ""
    date: str = ""
    date_problem: str = ""
    message_id: str = ""
    message_id_problem: str = ""
    bulk: bool = False  # Precedence: bulk/list, a List-Id or a List-Unsubscribe header
    list_unsubscribe: str = ""
    one_click: bool = False  # List-Unsubscribe-Post: List-Unsubscribe=One-Click with an https link
    unsubscribe_problem: str = ""
    arc_sets: int = 0  # ARC-Seal headers present
    defects: list[str] = field(default_factory=list)  # the MIME parser's complaints, by kind

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _all(message: Message, name: str) -> list[str]:
    return [clean(str(value), 1000) for value in message.get_all(name) or []]


def _from(facts: HeaderFacts, message: Message) -> None:
    values = _all(message, "From")
    facts.from_header = values[0][:300] if values else ""
    if not values:
        facts.from_problem = "is missing"
        return
    if len(values) > 1:
        facts.from_problem = f"appears {len(values)} times"
        return
    addresses = [address for _, address in email.utils.getaddresses(values) if address]
    if len(addresses) != 1:
        facts.from_problem = "names no address" if not addresses else f"names {len(addresses)} addresses"
        return
    local, at, domain = addresses[0].rpartition("@")
    domain = domain.strip().lower().rstrip(".")
    if not at or not local or "." not in domain or any(c in domain for c in ' <>()[]\\,;:"'):
        facts.from_problem = f"has an address without a valid domain ({addresses[0][:100]})"
        return
    facts.from_domain = domain


def _date(facts: HeaderFacts, message: Message, received: datetime) -> None:
    values = _all(message, "Date")
    if not values:
        facts.date_problem = "is missing"
        return
    facts.date = values[0][:100]
    try:
        sent = email.utils.parsedate_to_datetime(values[0])
    except (TypeError, ValueError, IndexError):
        facts.date_problem = "cannot be read as a date (RFC 5322 section 3.3)"
        return
    if sent.tzinfo is None:
        facts.date_problem = "has no time zone"
    elif abs(sent - received) > DATE_SKEW:
        facts.date_problem = "is more than a day away from when the message arrived (the sender's clock is wrong)"


def _message_id(facts: HeaderFacts, message: Message) -> None:
    values = _all(message, "Message-ID")
    if not values:
        facts.message_id_problem = "is missing"
        return
    facts.message_id = values[0][:200]
    if len(values) > 1:
        facts.message_id_problem = f"appears {len(values)} times"
    elif not _MESSAGE_ID.fullmatch(values[0].strip()):
        facts.message_id_problem = "is not of the form <unique@domain>"


def _unsubscribe(facts: HeaderFacts, message: Message) -> None:
    precedence = {value.strip().lower() for value in _all(message, "Precedence")}
    unsubscribe = _all(message, "List-Unsubscribe")
    facts.list_unsubscribe = unsubscribe[0][:300] if unsubscribe else ""
    facts.bulk = bool(precedence & _BULK_PRECEDENCE or _all(message, "List-Id") or unsubscribe)
    post = [value.strip().lower() for value in _all(message, "List-Unsubscribe-Post")]
    links = re.findall(r"<([^<>]+)>", facts.list_unsubscribe)
    facts.one_click = _ONE_CLICK in post and any(link.lower().startswith("https://") for link in links)
    if not facts.bulk:
        return
    if not unsubscribe:
        facts.unsubscribe_problem = "bulk mail without a List-Unsubscribe header"
    elif not links:
        facts.unsubscribe_problem = "a List-Unsubscribe header without a <link>"
    elif not facts.one_click:
        facts.unsubscribe_problem = "no one-click unsubscribe (RFC 8058)"


def _defects(message: Message) -> list[str]:
    kinds: list[str] = []
    for part in message.walk():
        for defect in getattr(part, "defects", []):
            name = type(defect).__name__.removesuffix("Defect")
            if name not in kinds:
                kinds.append(name)
    return kinds[:MAX_DEFECTS]


def read_headers(raw: bytes, received: datetime) -> HeaderFacts:
    """The header facts of a message as received (never raises: what cannot be read is a problem, not an error)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    facts = HeaderFacts()
    _from(facts, message)
    facts.subject = (_all(message, "Subject") or [""])[0][:200]
    _date(facts, message, received)
    _message_id(facts, message)
    _unsubscribe(facts, message)
    facts.arc_sets = len(message.get_all("ARC-Seal") or [])
    facts.defects = _defects(message)
    return facts
