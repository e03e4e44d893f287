"""Turns what a consultant pastes (a URL, an IDN, a name with a trailing dot) into a clean domain name."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import idna
from confusable_homoglyphs import categories, confusables
from publicsuffixlist import PublicSuffixList

MAX_NAME = 253
MAX_LABEL = 63
_LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SELECTOR = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*$")


class DomainError(ValueError):
    """The text is not a domain name; the message says why in plain English."""


@dataclass(frozen=True)
class ParsedDomain:
    apex: str  # the registrable domain, ASCII (punycode)
    host: str  # what was in front of the apex ("www", "app", ""), ASCII


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


def _extract_host(text: str) -> str:
    text = text.strip()
    if not text:
        raise DomainError("Enter a domain name, such as example.com.")
    if any(c.isspace() for c in text):
        raise DomainError("A domain name cannot contain spaces.")
    if "://" not in text:
        text = "//" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        raise DomainError("That does not look like a domain name or a web address.") from None
    if parts.username is not None or parts.password is not None:
        raise DomainError("Enter just the domain name, without a user name or password.")
    if not host:
        raise DomainError("That does not look like a domain name or a web address.")
    return host


def _to_ascii(host: str) -> str:
    try:
        ascii_name = idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError as exc:
        reason = str(exc).lower()
        if "domain too long" in reason:
            raise DomainError(f"A domain name can be at most {MAX_NAME} characters long.") from None
        if "too long" in reason:
            raise DomainError(f"Each part of a domain name can be at most {MAX_LABEL} characters long.") from None
        raise DomainError(
            "That name has characters that are not allowed in a domain name (letters, digits and hyphens only)."
        ) from None
    except UnicodeError:
        raise DomainError("That name has characters that are not allowed in a domain name.") from None
    return ascii_name.lower()


def normalise_hostname(text: str) -> str:
    """A full host name in lower-case ASCII, from a name, a URL or an IDN; DomainError if invalid."""
    host = _extract_host(text)
    if host.endswith("."):
        host = host[:-1]
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise DomainError("That is an IP address; enter the domain name instead.")
    if ".." in host or host.startswith("."):
        raise DomainError("A domain name cannot have empty parts (two dots in a row).")
    for label in host.split("."):
        if len(label) > MAX_LABEL:
            raise DomainError(f"Each part of a domain name can be at most {MAX_LABEL} characters long.")
    ascii_name = _to_ascii(host)
    if len(ascii_name) > MAX_NAME:
        raise DomainError(f"A domain name can be at most {MAX_NAME} characters long.")
    labels = ascii_name.split(".")
    for label in labels:
        if not _LDH_LABEL.match(label):
            raise DomainError(
                "That name has characters that are not allowed in a domain name "
                "(letters, digits and hyphens, not at the start or end of a part)."
            )
    if len(labels) < 2:
        raise DomainError("That is a top-level domain on its own; enter the full name, such as example.com.")
    if labels[-1].isdigit():
        raise DomainError("That is not a valid domain name: the last part cannot be a number.")
    return ascii_name


def parse_domain(text: str) -> ParsedDomain:
    """Split what was entered into the registrable apex and the host label in front of it."""
    name = normalise_hostname(text)
    psl = _psl()
    if psl.is_public(name):
        raise DomainError(
            f"{display_name(name)} is a public suffix (like .com or .co.uk), not a domain that "
            "someone can own; enter the full name, such as example.com."
        )
    apex = psl.privatesuffix(name) or name
    host = name[: -len(apex)].rstrip(".")
    address = address_in_host(host)
    if address is not None:
        # nip.io, sslip.io and the like answer any name with the address spelt in it: the name belongs to
        # the service, and auditing its apex would audit someone else's domain.
        raise DomainError(
            f"{display_name(name)} is the address {address} spelt as a name under {display_name(apex)}, "
            "not a domain of its own: enter the domain the app will launch on."
        )
    return ParsedDomain(apex=apex, host=host)


_DASHED_IPV4 = re.compile(r"(?:^|-)(\d{1,3}(?:-\d{1,3}){3})$")
_DASHED_IPV6 = re.compile(r"^[0-9a-f-]*--[0-9a-f-]*$")


def address_in_host(host: str) -> str | None:
    """The IP address a host part spells out, as wildcard-DNS services read it (127.0.0.1, app.10.0.0.1,
    app-10-0-0-1, 2a01-4f8--2), or None."""
    labels = host.split(".") if host else []
    for i in range(len(labels) - 3):
        address = _ip(".".join(labels[i : i + 4]), 4)
        if address:
            return address
    for label in labels:
        dashed = _DASHED_IPV4.search(label)
        if dashed and (address := _ip(dashed.group(1).replace("-", "."), 4)):
            return address
        if _DASHED_IPV6.match(label) and (address := _ip(label.replace("-", ":"), 6)):
            return address
    return None


def _ip(text: str, version: int) -> str | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return str(ip) if ip.version == version else None


def normalise_label(text: str) -> str:
    """One sub-domain label (app, api, admin): lower-case ASCII, letters, digits and hyphens."""
    label = text.strip().lower().rstrip(".")
    if not label:
        raise DomainError("A host name part cannot be empty.")
    if "." in label:
        raise DomainError(f"“{text}”: enter one label such as app or api, not a full name.")
    if len(label) > MAX_LABEL:
        raise DomainError(f"“{text}” is longer than {MAX_LABEL} characters.")
    ascii_label = _to_ascii(label)
    if not _LDH_LABEL.match(ascii_label):
        raise DomainError(f"“{text}” has characters that are not allowed in a host name.")
    return ascii_label


def normalise_selector(text: str) -> str:
    """A DKIM selector (RFC 6376 allows dots and underscores in it)."""
    selector = text.strip().lower()
    if not selector or not _SELECTOR.match(selector) or len(selector) > MAX_NAME:
        raise DomainError(f"“{text}” is not a valid DKIM selector.")
    return selector


def display_name(ascii_name: str) -> str:
    """The Unicode form of a punycode name, for people to read; the ASCII form if it will not decode.
    Where people read a name, use `shown_name`: it adds the ASCII form when the Unicode one could deceive."""
    if "xn--" not in ascii_name:
        return ascii_name
    try:
        return idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError):
        return ascii_name


def shown_name(ascii_name: str) -> str:
    """A name as people see it: its Unicode form, with the ASCII form beside it when the Unicode form
    mixes scripts or could pass for a Latin name ("аррӏе.com (xn--80ak6aa92e.com)")."""
    unicode_form = display_name(ascii_name)
    return f"{unicode_form} ({ascii_name})" if unicode_form != ascii_name and is_lookalike(ascii_name) else unicode_form


# Scripts that UTS 39's highly restrictive level lets one label combine (Japanese, Chinese, Korean with Latin).
_ALLOWED_SCRIPT_SETS = (
    {"LATIN", "HAN", "HIRAGANA", "KATAKANA"},
    {"LATIN", "HAN", "BOPOMOFO"},
    {"LATIN", "HAN", "HANGUL"},
)
_NO_SCRIPT = {"COMMON", "INHERITED"}  # digits, hyphens, combining marks


def is_lookalike(ascii_name: str) -> bool:
    """Whether a label of the name, read in Unicode, mixes scripts (UTS 39 mixed-script detection) or is
    written wholly in letters of another script that each pass for a Latin one (a whole-script confusable,
    like the Cyrillic "аррӏе"). The public suffix (.рф, .ελ) is the registry's, not a lookalike anyone chose."""
    suffix = _psl().publicsuffix(ascii_name) or ""
    own = ascii_name[: -len(suffix)].rstrip(".") if suffix and ascii_name != suffix else ascii_name
    for label in own.split("."):
        if not label.startswith("xn--"):
            continue
        try:
            text = idna.decode(label)
        except (idna.IDNAError, UnicodeError):
            continue  # shown in its ASCII form anyway
        scripts = set(categories.unique_aliases(text)) - _NO_SCRIPT
        if len(scripts) > 1 and not any(scripts <= allowed for allowed in _ALLOWED_SCRIPT_SETS):
            return True
        if scripts and "LATIN" not in scripts:
            lookalikes = confusables.is_confusable(text, greedy=True, preferred_aliases=["latin"]) or []
            letters = {c for c in text if c.isalpha()}
            if letters <= {entry["character"] for entry in lookalikes}:
                return True
    return False
