"""DKIM for every signature of a received message, verified by dkimpy (RFC 6376, RFC 8301).

dkimpy asks for keys through the `dnsfunc` it is given. Here every key is looked up first through
launchready/net.py (the audits' DKIM lookups, so the guard, limits and the DNS failure kinds apply), and dkimpy
gets a function that answers from those lookups only: it never reaches the network itself.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import dkim
import dkim.util

from audits.email.dkim import DkimLookup, LookupStatus, lookup_selector
from audits.inbound.text import clean
from launchready.net import Net

MAX_SIGNATURES = 5  # a message with more is judged on its first five
MIN_KEY_BITS = 1024  # RFC 8301: verifiers must refuse smaller RSA keys

_quiet = logging.getLogger("audits.inbound.dkimpy")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


@dataclass
class SignatureResult:
    """One DKIM-Signature header and what became of it."""

    index: int
    result: str = "permerror"  # pass, fail, permerror, temperror, neutral (not verifiable here)
    problem: str = ""  # body_hash, signature, expired, key_missing, key_revoked, key_invalid, key_too_small,
    #                    malformed, dns_failure, unsupported; empty on pass
    detail: str = ""  # in plain English
    domain: str = ""  # d=
    selector: str = ""  # s=
    algorithm: str = ""  # a=
    key_bits: int | None = None
    key_testing: bool = False  # t=y in the key record
    body_length: int | None = None  # l=
    signed_at: int | None = None  # t=, seconds since the epoch
    expires: int | None = None  # x=
    signed_headers: list[str] = field(default_factory=list)  # h=

    @property
    def passed(self) -> bool:
        return self.result == "pass"

    @property
    def key_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tag(tags: dict[bytes, bytes], name: bytes) -> str:
    return clean(tags.get(name, b"").decode("ascii", errors="replace"), 255)


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 20 else None


def signature_values(raw: bytes) -> tuple[list[bytes], str]:
    """The DKIM-Signature values of a message, top first; and why the headers could not be read ("" if they could)."""
    try:
        headers, _body = dkim.rfc822_parse(raw)
    except dkim.MessageFormatError as exc:
        return [], clean(str(exc), 200)
    return [value for name, value in headers if name.lower() == b"dkim-signature"], ""


def _describe(result: SignatureResult, tags: dict[bytes, bytes]) -> None:
    result.domain = _tag(tags, b"d").lower()
    result.selector = _tag(tags, b"s").lower()
    result.algorithm = _tag(tags, b"a").lower()
    result.body_length = _number(_tag(tags, b"l"))
    result.signed_at = _number(_tag(tags, b"t"))
    result.expires = _number(_tag(tags, b"x"))
    result.signed_headers = [h.strip().lower() for h in _tag(tags, b"h").split(":") if h.strip()][:40]


def _from_exception(result: SignatureResult, exc: dkim.DKIMException, lookup: DkimLookup | None) -> None:
    text = clean(str(exc), 200)
    result.result, result.detail = "permerror", text
    if "body hash mismatch" in text:
        result.result, result.problem, result.detail = "fail", "body_hash", "the body hash does not match"
    elif "x= value is past" in text:
        result.problem, result.detail = "expired", "the signature has expired"
    elif "public key too small" in text:
        result.problem = "key_too_small"
        result.detail = f"the key is {result.key_bits or 'under 1024'} bits; receivers refuse keys under 1024"
    elif isinstance(exc, dkim.NaClNotFoundError) or result.algorithm.startswith("ed25519"):
        result.result, result.problem = "neutral", "unsupported"
        result.detail = "Ed25519 signatures are not verified here"
    elif isinstance(exc, dkim.KeyFormatError):
        result.problem = "key_invalid"
    else:
        result.problem = "malformed"


def _from_false(result: SignatureResult, lookup: DkimLookup | None) -> None:
    """dkimpy said the signature does not verify: a missing or unusable key, or a signature that does not match."""
    if lookup is None or lookup.status == LookupStatus.NOT_FOUND:
        result.result, result.problem = "permerror", "key_missing"
        result.detail = f"there is no DKIM key at {result.key_name}"
    elif lookup.key is not None and lookup.key.revoked:
        result.result, result.problem, result.detail = "permerror", "key_revoked", "the key is revoked (empty p=)"
    elif lookup.key is not None and lookup.key.errors:
        result.result, result.problem, result.detail = "permerror", "key_invalid", lookup.key.errors[0].message
    else:
        result.result, result.problem = "fail", "signature"
        result.detail = "the signature does not match the signed headers with the published key"


def _verify_one(raw: bytes, index: int, tags: dict[bytes, bytes], lookup: DkimLookup | None) -> SignatureResult:
    result = SignatureResult(index)
    _describe(result, tags)
    if lookup is not None and lookup.key is not None:
        result.key_bits = lookup.key.key_bits
        result.key_testing = lookup.key.testing
    if lookup is not None and lookup.status == LookupStatus.DNS_FAILURE:
        result.result, result.problem = "temperror", "dns_failure"
        result.detail = f"DNS did not answer for {lookup.name} ({lookup.dns_status})"
        return result
    records = {lookup.name: lookup.records[0].encode()} if lookup is not None and lookup.records else {}

    def from_lookups(name: bytes, timeout: int = 5) -> bytes | None:
        return records.get(name.decode("ascii", errors="replace").lower().rstrip("."))

    try:
        verifier = dkim.DKIM(raw, logger=_quiet, minkey=MIN_KEY_BITS)
        passed = verifier.verify(index, dnsfunc=from_lookups)
    except dkim.DKIMException as exc:
        _from_exception(result, exc, lookup)
        return result
    if verifier.keysize:
        result.key_bits = verifier.keysize
    if passed:
        result.result, result.problem, result.detail = "pass", "", "the signature verifies"
    else:
        _from_false(result, lookup)
    return result


async def verify_signatures(net: Net, raw: bytes) -> tuple[list[SignatureResult], str]:
    """Every DKIM signature's result (at most MAX_SIGNATURES), and why the headers could not be read, if so."""
    values, problem = signature_values(raw)
    if problem:
        return [], problem
    parsed: list[dict[bytes, bytes] | None] = []
    for value in values[:MAX_SIGNATURES]:
        try:
            parsed.append(dkim.util.parse_tag_value(value))
        except dkim.util.InvalidTagValueList:
            parsed.append(None)
    wanted = sorted(
        {
            (_tag(tags, b"d").lower(), _tag(tags, b"s").lower())
            for tags in parsed
            if tags is not None and _tag(tags, b"d") and _tag(tags, b"s")
        }
    )
    found = await asyncio.gather(*(lookup_selector(net, domain, selector) for domain, selector in wanted))
    lookups = dict(zip(wanted, found, strict=True))
    results = []
    for index, tags in enumerate(parsed):
        if tags is None:
            bad = SignatureResult(index, problem="malformed", detail="the signature's tags cannot be read")
            results.append(bad)
            continue
        lookup = lookups.get((_tag(tags, b"d").lower(), _tag(tags, b"s").lower()))
        results.append(_verify_one(raw, index, tags, lookup))
    return results, ""
