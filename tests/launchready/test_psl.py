"""The registrable domain of a name agrees with the Public Suffix List's own test file, case by case."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from launchready.psl import is_public_suffix, public_suffix, registrable_domain

SUITE = Path(__file__).resolve().parents[1] / "data/psl/test_psl.txt"
_CASE = re.compile(r"^checkPublicSuffix\((null|'[^']*'), (null|'[^']*')\);$")


def _value(token: str) -> str | None:
    return None if token == "null" else token[1:-1]


def _cases() -> list[tuple[str | None, str | None]]:
    cases = []
    for line in SUITE.read_text(encoding="utf-8").splitlines():
        match = _CASE.match(line.strip())  # commented-out cases start with // and do not match
        if match:
            cases.append((_value(match[1]), _value(match[2])))
    return cases


CASES = _cases()


def test_it_reads_every_case_of_the_suite() -> None:
    assert len(CASES) == 78


@pytest.mark.parametrize(("name", "expected"), CASES, ids=[f"{i + 1}-{c[0]}" for i, c in enumerate(CASES)])
def test_it_finds_the_registrable_domain(name: str | None, expected: str | None) -> None:
    assert registrable_domain(name) == expected


def test_it_names_the_public_suffix() -> None:
    assert public_suffix("shop.example.co.uk") == "co.uk"
    assert public_suffix("acme.github.io") == "github.io"
    assert public_suffix("Example.COM.") == "com"
    assert public_suffix("a..example.com") is None
    assert is_public_suffix("co.uk")
    assert not is_public_suffix("example.co.uk")


def test_it_accepts_a_trailing_dot_like_dns_does() -> None:
    assert registrable_domain("www.Example.com.") == "example.com"
