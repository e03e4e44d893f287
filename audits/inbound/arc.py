"""The ARC chain of a received message (RFC 8617), verified by dkimpy: the seals forwarders (mailing lists,
forwarding services, security gateways) add so that a receiver can trust the results they saw before they
changed the message.

As for DKIM, every sealer's key is looked up first through launchready/net.py, and dkimpy gets a function that
answers from those lookups only: it never reaches the network itself.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import dkim
import dkim.util

from audits.email.dkim import DkimLookup, LookupStatus, lookup_selector
from audits.inbound.signatures import MIN_KEY_BITS
from audits.inbound.text import clean
from launchready.net import Net

MAX_SETS = 10  # a chain of more sets is reported as not checked (real ones have one to three)
MAX_INSTANCE = 50  # RFC 8617 4.2.1: i= runs from 1 to 50
ARC_HEADERS = (b"arc-seal", b"arc-message-signature", b"arc-authentication-results")
_INSTANCE = re.compile(r"\d{1,3}")
_BYTES_REPR = re.compile(r"\s*\(b['\"].*$", re.DOTALL)

_quiet = logging.getLogger("audits.inbound.dkimpy")


@dataclass
class ArcSet:
    """One forwarder's set as dkimpy judged it."""

    instance: int
    sealer: str = ""  # the ARC-Seal's d=
    selector: str = ""  # its s=
    signer: str = ""  # the ARC-Message-Signature's d=
    chain_status: str = ""  # the cv= the forwarder stated: none, pass or fail
    seal_valid: bool = False
    signature_valid: bool = False


@dataclass
class ArcResult:
    """pass, fail, none (no ARC headers), temperror (a sealer's key could not be read), unchecked (too long)."""

    result: str = "none"
    instances: int = 0
    sealer: str = ""  # d= of the latest seal: the last forwarder before the receiver
    detail: str = ""  # in plain English
    sets: list[ArcSet] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return self.instances > 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Header:
    name: bytes
    instance: int | None
    tags: dict[bytes, bytes] | None


def _text(value: bytes, limit: int = 255) -> str:
    return clean(value.decode("ascii", errors="replace"), limit)


def _arc_headers(raw: bytes) -> tuple[list[_Header], str]:
    """The ARC headers of a message with their i= and tags; and why the headers could not be read, if so."""
    try:
        headers, _body = dkim.rfc822_parse(raw)
    except dkim.MessageFormatError as exc:
        return [], clean(str(exc), 200)
    found = []
    for name, value in headers:
        lowered = name.lower()
        if lowered not in ARC_HEADERS:
            continue
        tags: dict[bytes, bytes] | None = None
        instance: int | None = None
        if lowered == b"arc-authentication-results":
            # Not a tag list: "i=1; authserv-id; results".
            first = value.split(b";", 1)[0].strip().lower()
            if first.startswith(b"i="):
                instance = _number(first[2:].strip())
        else:
            try:
                tags = dkim.util.parse_tag_value(value)
            except dkim.util.InvalidTagValueList:
                tags = None
            instance = _number(tags.get(b"i", b"")) if tags else None
        found.append(_Header(lowered, instance, tags))
    return found, ""


def _number(value: bytes) -> int | None:
    text = value.decode("ascii", errors="replace").strip()
    return int(text) if _INSTANCE.fullmatch(text) else None


def _keys_wanted(headers: list[_Header]) -> list[tuple[str, str]]:
    wanted: set[tuple[str, str]] = set()
    for header in headers:
        if header.tags is None or header.name == b"arc-authentication-results":
            continue
        domain, selector = _text(header.tags.get(b"d", b"")).lower(), _text(header.tags.get(b"s", b"")).lower()
        if domain and selector:
            wanted.add((domain, selector))
    return sorted(wanted)


def _structure_problem(headers: list[_Header]) -> str:
    """Why the chain cannot be valid whatever the keys say ("" when its shape is sound)."""
    if any(h.instance is None for h in headers):
        return "an ARC header has no readable instance number (i=)"
    instances = sorted({h.instance for h in headers if h.instance is not None})
    if instances[-1] > MAX_INSTANCE:
        return f"an ARC set is numbered {instances[-1]}; RFC 8617 allows at most {MAX_INSTANCE}"
    if instances != list(range(1, len(instances) + 1)):
        return "the ARC sets are not numbered 1, 2, 3 … without gaps"
    for instance in instances:
        names = sorted(h.name for h in headers if h.instance == instance)
        if names != sorted(ARC_HEADERS):
            return f"ARC set {instance} does not have exactly one seal, one message signature and one results header"
    return ""


def _sets(data: list[dict[Any, Any]]) -> list[ArcSet]:
    sets = []
    for item in data:
        sets.append(
            ArcSet(
                instance=int(item.get("instance", 0)),
                sealer=_text(item.get("as-domain", b"")).lower(),
                selector=_text(item.get("as-selector", b"")).lower(),
                signer=_text(item.get("ams-domain", b"")).lower(),
                chain_status=_text(item.get("cv", b""), 20).lower(),
                seal_valid=bool(item.get("as-valid")),
                signature_valid=bool(item.get("ams-valid")),
            )
        )
    return sorted(sets, key=lambda s: -s.instance)


def _explain_failure(result: ArcResult, lookups: dict[tuple[str, str], DkimLookup], reason: str) -> str:
    """dkimpy's reason, in plain English, naming the set and the forwarder."""
    for arc_set in result.sets:
        lookup = lookups.get((arc_set.sealer, arc_set.selector))
        if lookup is not None and lookup.status == LookupStatus.NOT_FOUND:
            return f"there is no key at {arc_set.selector}._domainkey.{arc_set.sealer} for the seal of {arc_set.sealer}"
    latest = result.sets[0] if result.sets else None
    if latest is not None and not latest.signature_valid:
        return (
            f"the message was changed after {latest.signer or 'the last forwarder'} sealed it (its "
            f"ARC-Message-Signature, set {latest.instance}, no longer matches)"
        )
    for arc_set in result.sets:
        if arc_set.chain_status == "fail":
            who = arc_set.sealer or "a forwarder"
            return f"{who} had already found the chain broken (set {arc_set.instance}, cv=fail)"
        if not arc_set.seal_valid:
            return f"the seal of {arc_set.sealer or 'a forwarder'} (set {arc_set.instance}) does not verify"
        expected = "none" if arc_set.instance == 1 else "pass"
        if arc_set.chain_status != expected:
            return f"set {arc_set.instance} states cv={arc_set.chain_status or 'nothing'} where cv={expected} belongs"
    reason = _BYTES_REPR.sub("", reason)  # dkimpy quotes the offending value as a Python bytes literal
    return clean(reason, 200) or "the chain does not verify"


def _verify(raw: bytes, lookups: dict[tuple[str, str], DkimLookup]) -> tuple[bytes | None, list[dict[Any, Any]], str]:
    records = {lookup.name: lookup.records[0].encode() for lookup in lookups.values() if lookup.records and lookup.name}

    def from_lookups(name: bytes, timeout: int = 5) -> bytes | None:
        return records.get(name.decode("ascii", errors="replace").lower().rstrip("."))

    try:
        verifier = dkim.ARC(raw, logger=_quiet, minkey=MIN_KEY_BITS)
        cv, data, reason = verifier.verify(dnsfunc=from_lookups)
    except (dkim.DKIMException, IndexError, KeyError, ValueError) as exc:
        # IndexError: dkimpy looks for the raw ARC-Message-Signature by its "i=N;" spelling and finds none.
        return b"fail", [], clean(str(exc), 200) or type(exc).__name__
    return cv, list(data), str(reason)


async def verify_arc(net: Net, raw: bytes) -> ArcResult:
    """The ARC chain's result: none without ARC headers, else pass, fail, temperror or unchecked."""
    headers, problem = _arc_headers(raw)
    if problem or not headers:
        return ArcResult()
    seals = [h for h in headers if h.name == b"arc-seal"]
    instances = max((h.instance or 0 for h in headers), default=0)
    result = ArcResult(result="fail", instances=max(instances, len(seals)))
    latest_seal = max(seals, key=lambda h: h.instance or 0, default=None)
    if latest_seal is not None and latest_seal.tags is not None:
        result.sealer = _text(latest_seal.tags.get(b"d", b"")).lower()
    if len(seals) > MAX_SETS:
        result.result = "unchecked"
        result.detail = f"the chain has {len(seals)} sets; at most {MAX_SETS} are checked"
        return result
    shape = _structure_problem(headers)
    if shape:
        result.detail = shape
        return result
    wanted = _keys_wanted(headers)
    found = await asyncio.gather(*(lookup_selector(net, domain, selector) for domain, selector in wanted))
    lookups = dict(zip(wanted, found, strict=True))
    failed = [lookup for lookup in found if lookup.status == LookupStatus.DNS_FAILURE]
    if failed:
        result.result = "temperror"
        result.detail = f"DNS did not answer for the sealer's key {failed[0].name} ({failed[0].dns_status})"
        return result
    cv, data, reason = _verify(raw, lookups)
    result.sets = _sets(data)
    if cv == b"pass":
        result.result = "pass"
        sealers = ", ".join(dict.fromkeys(s.sealer for s in result.sets if s.sealer))
        result.detail = f"every seal verifies ({sealers})"
    else:
        result.detail = _explain_failure(result, lookups, reason)
    return result
