"""Domain input: pasted URLs, case, trailing dots and IDNs normalise; invalid names get a clear error."""

from __future__ import annotations

import pytest

from launchready.domains import (
    DomainError,
    display_name,
    is_lookalike,
    normalise_label,
    normalise_selector,
    parse_domain,
    shown_name,
)


@pytest.mark.parametrize(
    ("text", "apex", "host"),
    [
        ("example.com", "example.com", ""),
        ("https://www.Example.com/pricing", "example.com", "www"),
        ("http://app.example.com:8443/login?next=/", "example.com", "app"),
        ("EXAMPLE.COM", "example.com", ""),
        ("example.com.", "example.com", ""),
        ("  example.com  ", "example.com", ""),
        ("bücher.de", "xn--bcher-kva.de", ""),
        ("https://www.BÜCHER.de/", "xn--bcher-kva.de", "www"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de", ""),
        ("shop.example.co.uk", "example.co.uk", "shop"),
        ("acme.vercel.app", "acme.vercel.app", ""),
        ("eu.api.example.com", "example.com", "eu.api"),
    ],
)
def test_it_normalises(text: str, apex: str, host: str) -> None:
    parsed = parse_domain(text)
    assert (parsed.apex, parsed.host) == (apex, host)


def test_it_shows_punycode_as_unicode() -> None:
    assert display_name("xn--bcher-kva.de") == "bücher.de"
    assert display_name("example.com") == "example.com"
    assert display_name("xn--broken--.de") == "xn--broken--.de"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a domain name"),
        ("exa mple.com", "cannot contain spaces"),
        ("exa_mple.com", "not allowed"),
        ("exam!ple.com", "not allowed"),
        ("-example.com", "not allowed"),
        ("example-.com", "not allowed"),
        ("a" * 64 + ".com", "at most 63"),
        (".".join(["a" * 60] * 5) + ".com", "at most 253"),
        ("192.0.2.10", "IP address"),
        ("https://192.0.2.10/login", "IP address"),
        ("[2001:db8::1]", "IP address"),
        ("com", "top-level domain"),
        ("co.uk", "public suffix"),
        ("https://user:pass@example.com/", "without a user name"),
        ("example..com", "empty parts"),
        ("http://example.com:99999/", "does not look like"),
        ("example.123", "cannot be a number"),
    ],
)
def test_it_explains_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        parse_domain(text)


def test_host_labels_and_selectors() -> None:
    assert normalise_label(" App ") == "app"
    assert normalise_label("bücher") == "xn--bcher-kva"
    assert normalise_selector("S1") == "s1"
    assert normalise_selector("google._x") == "google._x"
    for bad in ("", "a.b", "a" * 64, "-api", "ap i"):
        with pytest.raises(DomainError):
            normalise_label(bad)
    with pytest.raises(DomainError):
        normalise_selector("bad selector")


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1.nip.io", "127.0.0.1"),
        ("https://app.10.0.0.1.nip.io/login", "10.0.0.1"),
        ("app-192-168-1-20.nip.io", "192.168.1.20"),
        ("203.0.113.9.sslip.io", "203.0.113.9"),
        ("2a01-4f8-c17-b8f--2.sslip.io", "2a01:4f8:c17:b8f::2"),
    ],
)
def test_it_refuses_an_address_spelt_as_a_name_under_a_wildcard_dns_service(text: str, address: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_domain(text)
    assert f"is the address {address} spelt as a name under" in str(refused.value)
    assert "not a domain of its own" in str(refused.value)


@pytest.mark.parametrize(
    "text", ["release-2024.example.com", "v1.2.example.com", "xn--80ak6aa92e.com", "a-b.c.d.e.com"]
)
def test_names_with_digits_that_spell_no_address_are_domains(text: str) -> None:
    assert parse_domain(text).apex


@pytest.mark.parametrize(
    ("ascii_name", "lookalike"),
    [
        pytest.param("xn--80ak6aa92e.com", True, id="аррӏе.com: Cyrillic letters that each pass for Latin"),
        pytest.param("app.xn--80ak6aa92e.com", True, id="a host under a lookalike domain"),
        pytest.param("xn--pypal-4ve.com", True, id="pаypal.com: one Cyrillic а among Latin letters"),
        pytest.param("xn--bcher-kva.de", False, id="bücher.de: Latin with an umlaut"),
        pytest.param("xn--strae-oqa.de", False, id="straße.de: Latin"),
        pytest.param("xn--r8jz45g.jp", False, id="例え.jp: Han and Hiragana, a combination UTS 39 allows"),
        pytest.param("xn--e1afmkfd.xn--p1ai", False, id="пример.рф: Cyrillic that reads as Cyrillic"),
        pytest.param("xn--hxakic4aa.gr", False, id="ελλάδα.gr: Greek that reads as Greek"),
        pytest.param("example.com", False, id="plain ASCII"),
    ],
)
def test_it_tells_a_homograph_from_an_honest_international_name(ascii_name: str, lookalike: bool) -> None:
    assert is_lookalike(ascii_name) is lookalike
    unicode_form = display_name(ascii_name)
    assert shown_name(ascii_name) == (f"{unicode_form} ({ascii_name})" if lookalike else unicode_form)
