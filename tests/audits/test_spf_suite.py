"""The public RFC 7208 test suite (openspf.org, release 2014.04) run through check_host() over the sandbox DNS."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from audits.email.spf import SpfResult, check_host
from launchready.net import Net
from launchready.sandbox.dns_server import ZoneData
from launchready.sandbox.runner import Sandbox

SUITE = Path(__file__).resolve().parents[1] / "data/spf/rfc7208-tests.yml"

# Every type a check might ask about a name; a TIMEOUT name stays silent for the ones it has no records of.
QUESTION_TYPES = ("A", "AAAA", "MX", "PTR", "TXT", "SPF", "CNAME", "NS", "SOA")

# Cases we knowingly fail, with the reason: none at present.
KNOWN_FAILURES: dict[str, str] = {}


@dataclasses.dataclass(frozen=True)
class SuiteCase:
    zone: ZoneData
    silent: bool  # some name never answers: use a short DNS lifetime
    host: str
    mailfrom: str
    helo: str
    results: tuple[str, ...]
    explanation: str | None


def zone_name(name: str) -> str:
    """A suite name in zone-file form, so the server matches dnspython's text of the question."""
    out = []
    for char in name:
        if char in '"();@$\\':
            out.append("\\" + char)
        elif ord(char) <= 0x20 or ord(char) >= 0x7F:
            out.append("".join(f"\\{byte:03d}" for byte in char.encode()))
        else:
            out.append(char)
    return "".join(out)


def txt_value(value: str | list[str]) -> str:
    """A TXT/SPF value as zone-file character-strings; a list is several strings of one record."""
    strings = [value] if isinstance(value, str) else [str(item) for item in value]
    if not strings:
        return '""'  # the suite's "null text" (no strings) cannot be written; one empty string stands in
    return " ".join(quoted(text) for text in strings)


def quoted(text: str) -> str:
    # The suite was written with byte strings: YAML "\xEF" is the byte 0xEF, so Latin-1 restores the bytes.
    data = text.encode("latin-1") if all(ord(char) < 256 for char in text) else text.encode()
    chunks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]  # 255 bytes per character-string
    return " ".join(f'"{escaped(chunk)}"' for chunk in chunks)


def escaped(data: bytes) -> str:
    return "".join(chr(byte) if 0x20 <= byte < 0x7F and byte not in (0x22, 0x5C) else f"\\{byte:03d}" for byte in data)


def build_zone(zonedata: dict[str, list[Any]]) -> tuple[ZoneData, bool]:
    """The scenario's zone. As the suite's drivers do, SPF records are also served as TXT when a name has none."""
    zone = ZoneData()
    silent = False
    for name, entries in zonedata.items():
        owner = zone_name(name)
        served: set[str] = set()
        spf_values: list[str] = []
        has_txt = timeout = False
        for entry in entries:
            if entry == "TIMEOUT" or (isinstance(entry, dict) and "TIMEOUT" in entry):
                timeout = True
                continue
            ((rdtype, value),) = entry.items()
            has_txt = has_txt or rdtype == "TXT"
            if value == "NONE":
                continue  # "TXT: NONE" says there is no TXT, and so no TXT made from SPF either
            if rdtype in ("TXT", "SPF"):
                value = txt_value(value)
                if rdtype == "SPF":
                    spf_values.append(value)
            elif rdtype == "MX":
                value = f"{value[0]} {value[1]}"
            zone.add(owner, rdtype, str(value))
            served.add(rdtype)
        if not has_txt:
            for value in spf_values:
                zone.add(owner, "TXT", value)
                served.add("TXT")
        if timeout:
            silent = True
            # As in the suite's own drivers: the types listed still answer, every other type times out.
            types = tuple(t for t in QUESTION_TYPES if t not in served) if served else ()
            zone.behave(owner, timeout=True, rdtypes=types)
    return zone, silent


def load_cases() -> Iterator[Any]:
    with SUITE.open(encoding="utf-8") as handle:
        scenarios = list(yaml.safe_load_all(handle))
    for scenario in scenarios:
        zone, silent = build_zone(scenario["zonedata"])
        for name, test in scenario["tests"].items():
            results = test["result"] if isinstance(test["result"], list) else [test["result"]]
            case = SuiteCase(
                zone=zone,
                silent=silent,
                host=str(test["host"]),
                mailfrom=str(test["mailfrom"]),
                helo=str(test["helo"]),
                results=tuple(results),
                explanation=test.get("explanation"),
            )
            case_id = f"{scenario['description']}/{name}"
            marks = (
                [pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[case_id])] if case_id in KNOWN_FAILURES else []
            )
            yield pytest.param(case, id=case_id, marks=marks)


CASES = list(load_cases())


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(ZoneData()) as sb:
        yield sb


def evaluate(sandbox: Sandbox, case: SuiteCase) -> SpfResult:
    sandbox.load(case.zone)
    config = sandbox.net_config()
    if case.silent:
        config = dataclasses.replace(config, dns_timeout=1.0, dns_lifetime=1.0)
    domain = case.mailfrom.rpartition("@")[2] if case.mailfrom else case.helo

    async def run() -> SpfResult:
        async with Net(config) as net:  # a fresh Net per case: its DNS cache must not carry over
            return await check_host(net, case.host, domain, case.mailfrom, case.helo)

    return asyncio.run(run())


def test_it_loads_every_case_of_the_suite() -> None:
    assert len(CASES) == 203


@pytest.mark.parametrize("case", CASES)
def test_it_gives_the_result_the_suite_expects(sandbox: Sandbox, case: SuiteCase) -> None:
    result = evaluate(sandbox, case)

    assert result.result in case.results, f"{result.result} not in {case.results}: {result.problem}"
    if case.explanation is not None:
        # The suite's drivers set the default explanation to "DEFAULT": we give none in that case.
        expected = None if case.explanation == "DEFAULT" else case.explanation
        assert result.explanation == expected
