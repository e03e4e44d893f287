"""DKIM key records (RFC 6376 section 3.6.1, RFC 8301, RFC 8463): parsing, key strength and selector lookups.

A DKIM key lives at <selector>._domainkey.<domain>, and nothing in DNS lists the selectors a domain
uses: they appear only in the signatures of its mail. An audit therefore tries the configured selectors
and the common providers' ones. Finding none can never prove that a domain does not sign with DKIM, so
every result says which selectors were tried.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from launchready.net import DnsStatus, Net

SELECTOR_GUESS_NOTE = (
    "DKIM selectors cannot be listed from DNS; they appear only in the signatures of sent mail. "
    "Not finding a key under the selectors tried does not prove that the domain does not sign its mail."
)

# The selectors each mail provider documents (or uses in practice) for a customer's own domain.
COMMON_SELECTORS: dict[str, list[str]] = {
    "google": ["google"],
    "microsoft": ["selector1", "selector2"],
    "sendgrid": ["s1", "s2"],
    "mailgun": ["mx", "k1", "smtp"],
    # Postmark's selectors are dated (e.g. 20240101123456pm), shown in its DNS settings page; "pm" is
    # only the historical one, so a missing "pm" key says little.
    "postmark": ["pm"],
    # Amazon SES (Easy DKIM) uses three random selectors per identity, published as CNAMEs to
    # <token>.dkim.amazonses.com; they cannot be guessed and must be configured.
    "ses": [],
    "resend": ["resend"],
    "mailchimp": ["k1", "k2", "k3"],
    "brevo": ["brevo1", "brevo2", "mail"],
    "zoho": ["zmail", "zoho"],
    "fastmail": ["fm1", "fm2", "fm3"],
    "hubspot": ["hs1", "hs2"],
}

# Selectors worth trying when the providers are unknown.
GENERIC_SELECTORS: list[str] = [
    "default",
    "selector1",
    "selector2",
    "google",
    "k1",
    "k2",
    "s1",
    "s2",
    "dkim",
    "mail",
    "smtp",
    "mx",
    "email",
    "key1",
]

MIN_RSA_BITS = 1024  # RFC 8301: verifiers MUST NOT accept signatures made with smaller keys
GOOD_RSA_BITS = 2048


class Code(StrEnum):
    """Machine-readable problem codes of a key record."""

    # errors
    EMPTY = "empty"
    SYNTAX = "syntax"  # a term that is not tag=value
    DUPLICATE_TAG = "duplicate_tag"  # RFC 6376 3.2: the whole tag list is then invalid
    BAD_VERSION = "bad_version"  # v= present but not DKIM1
    VERSION_NOT_FIRST = "version_not_first"
    MISSING_KEY = "missing_key"  # no p= tag (p= is the only required tag)
    REVOKED = "revoked"  # p= present and empty
    BAD_BASE64 = "bad_base64"
    BAD_KEY = "bad_key"  # base64 fine, but not a public key of the declared type
    UNKNOWN_KEY_TYPE = "unknown_key_type"  # k= other than rsa or ed25519: verifiers ignore the key
    KEY_TOO_SHORT = "key_too_short"  # RSA under 1024 bits
    NO_EMAIL_SERVICE = "no_email_service"  # s= lists neither "*" nor "email"
    NO_USABLE_HASH = "no_usable_hash"  # h= lists neither sha256 nor sha1
    # warnings
    WEAK_KEY = "weak_key"  # RSA of 1024 to 2047 bits
    SHA1_ONLY = "sha1_only"  # h=sha1: only the broken hash is accepted
    TESTING = "testing"  # t=y


@dataclass(frozen=True)
class Problem:
    code: Code
    message: str
    tag: str = ""


class KeyStatus(StrEnum):
    VALID = "valid"  # a usable key (warnings possible)
    REVOKED = "revoked"  # p= is empty
    INVALID = "invalid"


@dataclass
class DkimKey:
    text: str
    status: KeyStatus = KeyStatus.VALID
    tags: dict[str, str] = field(default_factory=dict)
    version: str | None = None
    key_type: str = "rsa"  # k=
    public_key: str = ""  # p=, whitespace removed
    key_bits: int | None = None  # RSA modulus size; 256 for Ed25519
    hashes: list[str] | None = None  # h=, None when absent (all hashes acceptable)
    services: list[str] = field(default_factory=lambda: ["*"])  # s=
    flags: list[str] = field(default_factory=list)  # t=
    notes: str = ""  # n=
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def testing(self) -> bool:
        return "y" in self.flags

    @property
    def strict(self) -> bool:
        """t=s: the i= domain of signatures must equal d=, not a subdomain of it."""
        return "s" in self.flags

    @property
    def revoked(self) -> bool:
        return self.status == KeyStatus.REVOKED

    @property
    def codes(self) -> list[Code]:
        return [p.code for p in (*self.errors, *self.warnings)]


def parse_key_record(text: str) -> DkimKey:
    """Parse a DKIM key TXT record (RFC 6376 3.6.1); problems are reported, never raised."""
    key = DkimKey(text=text)
    if not text.strip():
        key.errors.append(Problem(Code.EMPTY, "The DKIM record is empty."))
        key.status = KeyStatus.INVALID
        return key
    first = True
    for term in (t.strip() for t in text.split(";")):
        if not term:
            continue
        name, sep, value = term.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            key.errors.append(Problem(Code.SYNTAX, f"“{term}” is not a tag=value pair."))
        elif name in key.tags:
            key.errors.append(
                Problem(
                    Code.DUPLICATE_TAG,
                    f"The {name}= tag appears more than once, which makes the whole record invalid.",
                    name,
                )
            )
        else:
            key.tags[name] = value
            if name == "v" and not first:
                key.errors.append(Problem(Code.VERSION_NOT_FIRST, "v=DKIM1 must be the first tag.", "v"))
        first = False
    _read_tags(key)
    _read_key(key)
    if key.status != KeyStatus.REVOKED:
        key.status = KeyStatus.INVALID if key.errors else KeyStatus.VALID
    return key


def _read_tags(key: DkimKey) -> None:
    tags = key.tags
    if "v" in tags:
        key.version = tags["v"]
        if tags["v"] != "DKIM1":
            key.errors.append(
                Problem(Code.BAD_VERSION, f"v={tags['v']} is not a DKIM key version (write v=DKIM1).", "v")
            )
    key.key_type = tags.get("k", "rsa").strip().lower() or "rsa"
    if key.key_type not in ("rsa", "ed25519"):
        key.errors.append(
            Problem(
                Code.UNKNOWN_KEY_TYPE,
                f"k={key.key_type} is not a DKIM key type (rsa or ed25519); verifiers ignore this key.",
                "k",
            )
        )
    key.notes = tags.get("n", "")
    key.flags = _colon_list(tags.get("t", ""))
    if key.testing:
        key.warnings.append(
            Problem(
                Code.TESTING,
                "t=y: the domain says it is testing DKIM, and receivers may treat its signatures as unsigned mail.",
                "t",
            )
        )
    if "s" in tags:
        key.services = _colon_list(tags["s"])
        if not {"*", "email"} & set(key.services):
            key.errors.append(
                Problem(Code.NO_EMAIL_SERVICE, f"s={tags['s']} does not include email, so mail cannot use it.", "s")
            )
    if "h" in tags:
        key.hashes = _colon_list(tags["h"])
        known = {"sha1", "sha256"} & set(key.hashes)
        if not known:
            key.errors.append(
                Problem(Code.NO_USABLE_HASH, f"h={tags['h']} lists no hash verifiers know (sha256).", "h")
            )
        elif known == {"sha1"}:
            key.warnings.append(
                Problem(
                    Code.SHA1_ONLY,
                    "h=sha1 allows only SHA-1 signatures, which RFC 8301 forbids; verifiers reject them. "
                    "Use h=sha256 or drop the h= tag.",
                    "h",
                )
            )


def _colon_list(value: str) -> list[str]:
    return [item.strip().lower() for item in value.split(":") if item.strip()]


def _read_key(key: DkimKey) -> None:
    if "p" not in key.tags:
        key.errors.append(Problem(Code.MISSING_KEY, "The record has no p= tag, so it holds no public key.", "p"))
        return
    key.public_key = "".join(key.tags["p"].split())
    if not key.public_key:
        key.status = KeyStatus.REVOKED
        key.errors.append(
            Problem(Code.REVOKED, "p= is empty: this key has been revoked and no signature made with it verifies.")
        )
        return
    try:
        data = base64.b64decode(key.public_key, validate=True)
    except (binascii.Error, ValueError):
        key.errors.append(Problem(Code.BAD_BASE64, "p= is not valid base64, so the public key cannot be read.", "p"))
        return
    if key.key_type == "ed25519":
        _read_ed25519(key, data)
    elif key.key_type == "rsa":
        _read_rsa(key, data)


def _read_ed25519(key: DkimKey, data: bytes) -> None:
    if len(data) != 32:  # RFC 8463: the raw 32-byte key, not a DER SubjectPublicKeyInfo
        key.errors.append(
            Problem(Code.BAD_KEY, f"An Ed25519 DKIM key is the raw 32-byte key (RFC 8463); p= holds {len(data)} bytes.")
        )
        return
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(data)
    except ValueError:
        key.errors.append(Problem(Code.BAD_KEY, "p= is not a valid Ed25519 public key.", "p"))
        return
    key.key_bits = 256


def _read_rsa(key: DkimKey, data: bytes) -> None:
    try:
        public = serialization.load_der_public_key(data)  # SubjectPublicKeyInfo, or a bare PKCS#1 RSAPublicKey
    except (ValueError, UnsupportedAlgorithm):
        key.errors.append(Problem(Code.BAD_KEY, "p= decodes, but not to a public key.", "p"))
        return
    if not isinstance(public, rsa.RSAPublicKey):
        key.errors.append(Problem(Code.BAD_KEY, "p= holds a public key that is not RSA although k=rsa.", "p"))
        return
    key.key_bits = public.key_size
    if key.key_bits < MIN_RSA_BITS:
        key.errors.append(
            Problem(
                Code.KEY_TOO_SHORT,
                f"The RSA key has {key.key_bits} bits; receivers must reject signatures from keys under "
                f"{MIN_RSA_BITS} bits (RFC 8301). Publish a 2048-bit key.",
                "p",
            )
        )
    elif key.key_bits < GOOD_RSA_BITS:
        key.warnings.append(
            Problem(Code.WEAK_KEY, f"The RSA key has {key.key_bits} bits; 2048 is the current recommendation.", "p")
        )


# --- Lookups ---------------------------------------------------------------------------------------


class LookupStatus(StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    DNS_FAILURE = "dns_failure"  # SERVFAIL, timeout or query budget: unknown, not "no key"
    INVALID = "invalid"  # the selector does not make a valid DNS name


@dataclass(frozen=True)
class DkimLookup:
    selector: str
    name: str  # <selector>._domainkey.<domain>
    status: LookupStatus
    dns_status: DnsStatus
    key: DkimKey | None = None  # the key record (the first, when several)
    records: tuple[str, ...] = ()  # the key records found
    other_txt: tuple[str, ...] = ()  # TXT records there that are not DKIM keys
    cnames: tuple[str, ...] = ()  # the CNAME chain followed (SES and others delegate selectors this way)
    error: str = ""

    @property
    def several(self) -> bool:
        return len(self.records) > 1


def is_key_record(text: str) -> bool:
    """A TXT value that is meant as a DKIM key: v=DKIM1 first, or a p= tag."""
    tags = [term.partition("=") for term in (t.strip() for t in text.split(";")) if term]
    if not tags:
        return False
    name, _, value = tags[0]
    if name.strip() == "v" and value.strip().upper().startswith("DKIM"):
        return True
    return any(name.strip() == "p" and sep for name, sep, _ in tags)


async def lookup_selector(net: Net, domain: str, selector: str) -> DkimLookup:
    selector = selector.strip().lower().rstrip(".")
    name = f"{selector}._domainkey.{domain.strip().lower().rstrip('.')}"
    answer = await net.dns(name, "TXT")
    cnames = tuple(record.value for record in answer.cnames)
    if answer.status == DnsStatus.INVALID or not selector:
        return DkimLookup(selector, name, LookupStatus.INVALID, answer.status, error=answer.error)
    if answer.is_failure:
        return DkimLookup(selector, name, LookupStatus.DNS_FAILURE, answer.status, cnames=cnames, error=answer.error)
    values = answer.values if answer.ok else []
    keys = tuple(v for v in values if is_key_record(v))
    other = tuple(v for v in values if not is_key_record(v))
    if not keys:
        return DkimLookup(selector, name, LookupStatus.NOT_FOUND, answer.status, other_txt=other, cnames=cnames)
    return DkimLookup(
        selector,
        name,
        LookupStatus.FOUND,
        answer.status,
        key=parse_key_record(keys[0]),
        records=keys,
        other_txt=other,
        cnames=cnames,
    )


async def lookup_selectors(net: Net, domain: str, selectors: Iterable[str]) -> list[DkimLookup]:
    """Ask for every selector's key at once; one result per distinct selector, in the order given."""
    unique = list(dict.fromkeys(s.strip().lower().rstrip(".") for s in selectors))
    return list(await asyncio.gather(*(lookup_selector(net, domain, s) for s in unique)))


def selectors_for(providers: Iterable[str] = (), configured: Iterable[str] = (), *, generic: bool = True) -> list[str]:
    """The selectors to try: the configured ones first, then the providers', then the generic list."""
    chosen = [*configured]
    for provider in providers:
        chosen.extend(COMMON_SELECTORS.get(provider.strip().lower(), []))
    if generic:
        chosen.extend(GENERIC_SELECTORS)
    return list(dict.fromkeys(s.strip().lower() for s in chosen if s.strip()))


def tried_sentence(lookups: Iterable[DkimLookup]) -> str:
    """Plain English: which selectors were tried and what that can (not) prove."""
    lookups = list(lookups)
    found = [lk.selector for lk in lookups if lk.status == LookupStatus.FOUND]
    failed = [lk.selector for lk in lookups if lk.status == LookupStatus.DNS_FAILURE]
    tried = ", ".join(lk.selector for lk in lookups) or "none"
    sentence = f"Selectors tried: {tried}."
    if found:
        sentence += f" Keys found for: {', '.join(found)}."
    if failed:
        sentence += f" DNS did not answer for: {', '.join(failed)}, so those remain unknown."
    if not found:
        sentence += " " + SELECTOR_GUESS_NOTE
    return sentence
