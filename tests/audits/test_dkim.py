"""DKIM: key records parsed per RFC 6376 with real keys, and selector lookups against the sandbox DNS."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from audits.email.dkim import (
    COMMON_SELECTORS,
    GENERIC_SELECTORS,
    SELECTOR_GUESS_NOTE,
    Code,
    DkimLookup,
    KeyStatus,
    LookupStatus,
    is_key_record,
    lookup_selectors,
    parse_key_record,
    selectors_for,
    tried_sentence,
)
from launchready.net import DnsStatus, Net
from launchready.sandbox.dns_server import ZoneData
from launchready.sandbox.runner import Sandbox


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _rsa_p(bits: int) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    return _b64(key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def _rsa_512_p() -> str:
    # cryptography refuses to generate keys under 1024 bits, but a public key is just (n, e): any odd
    # 512-bit modulus serialises into exactly what a careless DNS admin could publish.
    modulus = (1 << 511) | int.from_bytes(b"launch-ready-dkim-test-modulus!!" * 2, "big") | 1
    key = rsa.RSAPublicNumbers(65537, modulus).public_key()
    return _b64(key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def _ed25519_p() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return _b64(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    return {"2048": _rsa_p(2048), "1024": _rsa_p(1024), "512": _rsa_512_p(), "ed25519": _ed25519_p()}


# --- Parsing ---------------------------------------------------------------------------------------


def test_it_reads_a_2048_bit_rsa_key(keys: dict[str, str]) -> None:
    key = parse_key_record(f"v=DKIM1; k=rsa; p={keys['2048']}")
    assert (key.status, key.key_type, key.key_bits, key.version) == (KeyStatus.VALID, "rsa", 2048, "DKIM1")
    assert key.errors == key.warnings == []


def test_it_warns_about_a_1024_bit_key(keys: dict[str, str]) -> None:
    key = parse_key_record(f"v=DKIM1; p={keys['1024']}")
    assert (key.status, key.key_bits) == (KeyStatus.VALID, 1024)
    assert key.codes == [Code.WEAK_KEY]


def test_it_rejects_a_512_bit_key(keys: dict[str, str]) -> None:
    key = parse_key_record(f"v=DKIM1; k=rsa; p={keys['512']}")
    assert (key.status, key.key_bits) == (KeyStatus.INVALID, 512)
    assert key.codes == [Code.KEY_TOO_SHORT]
    assert "RFC 8301" in key.errors[0].message


def test_it_reads_an_ed25519_key(keys: dict[str, str]) -> None:
    key = parse_key_record(f"v=DKIM1; k=ed25519; p={keys['ed25519']}")
    assert (key.status, key.key_type, key.key_bits) == (KeyStatus.VALID, "ed25519", 256)


def test_it_wants_the_raw_ed25519_key_not_der(keys: dict[str, str]) -> None:
    raw = base64.b64decode(keys["ed25519"])
    der = ed25519.Ed25519PublicKey.from_public_bytes(raw).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key = parse_key_record(f"v=DKIM1; k=ed25519; p={_b64(der)}")
    assert key.codes == [Code.BAD_KEY]


def test_it_accepts_a_bare_pkcs1_rsa_key_and_folded_base64() -> None:
    public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    p = _b64(public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1))
    key = parse_key_record(f"v=DKIM1; p={p[:100]} {p[100:200]}\t{p[200:]}")
    assert (key.status, key.key_bits) == (KeyStatus.VALID, 2048)


def test_it_sees_a_revoked_key() -> None:
    key = parse_key_record("v=DKIM1; k=rsa; p=")
    assert key.status == KeyStatus.REVOKED
    assert key.revoked
    assert key.codes == [Code.REVOKED]


def test_it_flags_testing_mode(keys: dict[str, str]) -> None:
    key = parse_key_record(f"v=DKIM1; t=y:s; p={keys['2048']}")
    assert key.status == KeyStatus.VALID
    assert key.testing and key.strict
    assert key.codes == [Code.TESTING]


def test_it_flags_sha1_only_keys(keys: dict[str, str]) -> None:
    weak = parse_key_record(f"v=DKIM1; h=sha1; p={keys['2048']}")
    assert weak.hashes == ["sha1"]
    assert weak.codes == [Code.SHA1_ONLY]
    both = parse_key_record(f"v=DKIM1; h=sha1:sha256; p={keys['2048']}")
    assert both.codes == []
    unknown = parse_key_record(f"v=DKIM1; h=md5; p={keys['2048']}")
    assert unknown.codes == [Code.NO_USABLE_HASH]


@pytest.mark.parametrize("p", ["MIIBIjANBgkq!!!", "abc", "not base64 at all ~~"])
def test_it_rejects_malformed_base64(p: str) -> None:
    key = parse_key_record(f"v=DKIM1; k=rsa; p={p}")
    assert key.status == KeyStatus.INVALID
    assert key.codes == [Code.BAD_BASE64]


def test_it_rejects_base64_that_is_not_a_key() -> None:
    key = parse_key_record(f"v=DKIM1; p={_b64(b'this is base64 but not a DER public key')}")
    assert key.codes == [Code.BAD_KEY]


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("v=DKIM2; p={p}", [Code.BAD_VERSION]),
        ("v=dkim1; p={p}", [Code.BAD_VERSION]),
        ("p={p}; v=DKIM1", [Code.VERSION_NOT_FIRST]),
        ("v=DKIM1; k=dsa; p={p}", [Code.UNKNOWN_KEY_TYPE]),
        ("v=DKIM1; s=tlsrpt; p={p}", [Code.NO_EMAIL_SERVICE]),
        ("v=DKIM1; k=rsa", [Code.MISSING_KEY]),
        ("v=DKIM1; p={p}; p={p}", [Code.DUPLICATE_TAG]),
        ("", [Code.EMPTY]),
    ],
)
def test_it_explains_what_makes_a_record_unusable(text: str, codes: list[Code], keys: dict[str, str]) -> None:
    key = parse_key_record(text.format(p=keys["2048"]))
    assert key.status == KeyStatus.INVALID
    assert key.codes == codes
    assert all(problem.message for problem in key.errors)


def test_it_accepts_a_record_without_version_and_with_service_email(keys: dict[str, str]) -> None:
    key = parse_key_record(f"k=rsa; s=email:*; n=rotated 2024; p={keys['2048']};")
    assert (key.status, key.version, key.services, key.notes) == (KeyStatus.VALID, None, ["email", "*"], "rotated 2024")


def test_it_tells_key_records_from_other_txt(keys: dict[str, str]) -> None:
    assert is_key_record(f"v=DKIM1; p={keys['2048']}")
    assert is_key_record("k=rsa; p=")
    assert is_key_record("v=DKIM2; k=rsa")
    assert not is_key_record("v=spf1 -all")
    assert not is_key_record("google-site-verification=abc")


# --- Selectors -------------------------------------------------------------------------------------


def test_it_knows_the_providers_selectors() -> None:
    assert set(COMMON_SELECTORS) == {
        "google",
        "microsoft",
        "sendgrid",
        "mailgun",
        "postmark",
        "ses",
        "resend",
        "mailchimp",
        "brevo",
        "zoho",
        "fastmail",
        "hubspot",
    }
    assert COMMON_SELECTORS["microsoft"] == ["selector1", "selector2"]
    assert COMMON_SELECTORS["ses"] == []
    assert {"default", "selector1", "google", "k1", "s1", "dkim", "mail", "smtp"} <= set(GENERIC_SELECTORS)


def test_it_orders_configured_selectors_first_without_repeats() -> None:
    chosen = selectors_for(["Microsoft", "sendgrid", "unknown"], ["Custom", "s1"], generic=False)
    assert chosen == ["custom", "s1", "selector1", "selector2", "s2"]
    assert selectors_for([])[: len(GENERIC_SELECTORS)] == GENERIC_SELECTORS


# --- Lookups on the sandbox ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(keys: dict[str, str]) -> Iterator[Sandbox]:
    zone = ZoneData()
    zone.add("google._domainkey.example.com", "TXT", f"v=DKIM1; k=rsa; p={keys['2048']}")  # over 255 bytes
    zone.add("s1._domainkey.example.com", "TXT", f"v=DKIM1; k=ed25519; p={keys['ed25519']}")
    zone.add("old._domainkey.example.com", "TXT", "v=DKIM1; k=rsa; p=")
    zone.add("weak._domainkey.example.com", "TXT", f"v=DKIM1; p={keys['1024']}")
    zone.add("test._domainkey.example.com", "TXT", f"v=DKIM1; t=y; h=sha1; p={keys['2048']}")
    zone.add("abc123._domainkey.example.com", "CNAME", "abc123.dkim.provider.example")
    zone.add("abc123.dkim.provider.example", "TXT", f"p={keys['2048']}")
    zone.add("two._domainkey.example.com", "TXT", f"v=DKIM1; p={keys['2048']}")
    zone.add("two._domainkey.example.com", "TXT", f"v=DKIM1; p={keys['1024']}")
    zone.add("other._domainkey.example.com", "TXT", "v=spf1 -all")
    zone.behave("broken._domainkey.example.com", servfail=True)
    zone.behave("slow._domainkey.example.com", timeout=True)
    with Sandbox(zone) as sb:
        yield sb


def _lookup(sb: Sandbox, selectors: list[str], **config: Any) -> dict[str, DkimLookup]:
    async def main() -> list[DkimLookup]:
        async with Net(dataclasses.replace(sb.net_config(), **config)) as net:
            return await lookup_selectors(net, "Example.com", selectors)

    return {lookup.selector: lookup for lookup in asyncio.run(main())}


def test_it_looks_up_several_selectors_where_some_exist(sandbox: Sandbox) -> None:
    found = _lookup(sandbox, ["google", "selector1", "s1", "selector2", "Google", "weak"])
    assert list(found) == ["google", "selector1", "s1", "selector2", "weak"]
    assert {s: lk.status for s, lk in found.items()} == {
        "google": LookupStatus.FOUND,
        "selector1": LookupStatus.NOT_FOUND,
        "s1": LookupStatus.FOUND,
        "selector2": LookupStatus.NOT_FOUND,
        "weak": LookupStatus.FOUND,
    }
    google = found["google"]
    assert google.name == "google._domainkey.example.com"
    assert google.key is not None and (google.key.key_bits, google.key.status) == (2048, KeyStatus.VALID)
    assert found["s1"].key is not None and found["s1"].key.key_type == "ed25519"
    assert found["weak"].key is not None and found["weak"].key.codes == [Code.WEAK_KEY]
    assert found["selector1"].dns_status == DnsStatus.NXDOMAIN


def test_it_reports_revoked_and_testing_keys_from_dns(sandbox: Sandbox) -> None:
    found = _lookup(sandbox, ["old", "test"])
    assert found["old"].key is not None and found["old"].key.status == KeyStatus.REVOKED
    assert found["test"].key is not None and set(found["test"].key.codes) == {Code.TESTING, Code.SHA1_ONLY}


def test_it_follows_a_cname_to_the_providers_key(sandbox: Sandbox) -> None:
    lookup = _lookup(sandbox, ["abc123"])["abc123"]
    assert lookup.status == LookupStatus.FOUND
    assert lookup.cnames == ("abc123.dkim.provider.example",)
    assert lookup.key is not None and lookup.key.key_bits == 2048


def test_it_keeps_every_key_when_a_selector_has_several(sandbox: Sandbox) -> None:
    lookup = _lookup(sandbox, ["two"])["two"]
    assert lookup.status == LookupStatus.FOUND
    assert lookup.several and len(lookup.records) == 2


def test_it_does_not_take_other_txt_for_a_key(sandbox: Sandbox) -> None:
    lookup = _lookup(sandbox, ["other"])["other"]
    assert (lookup.status, lookup.key, lookup.other_txt) == (LookupStatus.NOT_FOUND, None, ("v=spf1 -all",))


def test_it_reports_a_failing_server_as_a_dns_failure(sandbox: Sandbox) -> None:
    found = _lookup(sandbox, ["broken", "slow", "google"], dns_lifetime=1.0)
    assert (found["broken"].status, found["broken"].dns_status) == (LookupStatus.DNS_FAILURE, DnsStatus.SERVFAIL)
    assert (found["slow"].status, found["slow"].dns_status) == (LookupStatus.DNS_FAILURE, DnsStatus.TIMEOUT)
    assert found["google"].status == LookupStatus.FOUND
    sentence = tried_sentence(found.values())
    assert sentence.startswith("Selectors tried: broken, slow, google.")
    assert "DNS did not answer for: broken, slow" in sentence


def test_it_says_which_selectors_were_tried_when_none_is_found(sandbox: Sandbox) -> None:
    found = _lookup(sandbox, ["selector1", "selector2"])
    sentence = tried_sentence(found.values())
    assert sentence == f"Selectors tried: selector1, selector2. {SELECTOR_GUESS_NOTE}"
    assert "does not prove" in sentence


def test_it_marks_a_selector_that_is_not_a_dns_name(sandbox: Sandbox) -> None:
    lookup = _lookup(sandbox, ["bad..selector"])["bad..selector"]
    assert lookup.status == LookupStatus.INVALID
