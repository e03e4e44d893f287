"""SPF: check_host() for a sending IP and the static analysis of a domain's record, over the sandbox DNS."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from audits.email.spf import (
    PROVIDER_INCLUDES,
    SpfAnalysis,
    SpfResult,
    SpfSyntaxError,
    analyse,
    check_host,
    unauthorised_providers,
)
from launchready.net import Net
from launchready.sandbox.dns_server import ZoneData
from launchready.sandbox.runner import Sandbox

T = TypeVar("T")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(ZoneData()) as sb:
        yield sb


def run(sandbox: Sandbox, zone: ZoneData, call: Callable[[Net], Awaitable[T]], **config: Any) -> T:
    """Serve the zone, then run one call through a fresh Net (its DNS cache must not carry over)."""
    sandbox.load(zone)
    net_config = dataclasses.replace(sandbox.net_config(), **config)

    async def main() -> T:
        async with Net(net_config) as net:
            return await call(net)

    return asyncio.run(main())


def check(sandbox: Sandbox, zone: ZoneData, ip: str, sender: str = "founder@example.com", **config: Any) -> SpfResult:
    domain = sender.rpartition("@")[2]
    return run(sandbox, zone, lambda net: check_host(net, ip, domain, sender, "mail.example.com"), **config)


def analysis_of(sandbox: Sandbox, zone: ZoneData, domain: str = "example.com", **config: Any) -> SpfAnalysis:
    return run(sandbox, zone, lambda net: analyse(net, domain), **config)


def zone_with(records: dict[str, str | list[str]]) -> ZoneData:
    zone = ZoneData()
    for name, values in records.items():
        for value in [values] if isinstance(values, str) else values:
            zone.add(name, "TXT", value)
    return zone


# --- check_host() ---------------------------------------------------------------------------------


def test_it_passes_an_ip_the_record_lists(sandbox: Sandbox) -> None:
    zone = zone_with({"example.com": "v=spf1 ip4:192.0.2.0/24 -all"})

    result = check(sandbox, zone, "192.0.2.10")

    assert result.result == "pass"
    assert result.mechanism == "ip4:192.0.2.0/24"
    assert result.record == "v=spf1 ip4:192.0.2.0/24 -all"


def test_it_fails_an_ip_the_record_does_not_list_and_explains_why(sandbox: Sandbox) -> None:
    zone = zone_with(
        {
            "example.com": "v=spf1 ip4:192.0.2.0/24 -all exp=why.example.com",
            "why.example.com": "%{i} may not send for %{d}",
        }
    )

    result = check(sandbox, zone, "198.51.100.7")

    assert result.result == "fail"
    assert result.mechanism == "-all"
    assert result.explanation == "198.51.100.7 may not send for example.com"


def test_it_matches_a_and_mx_with_dual_cidr_lengths_for_ipv6(sandbox: Sandbox) -> None:
    zone = zone_with({"example.com": "v=spf1 a/24//64 -all"})
    zone.add("example.com", "A", "192.0.2.1")
    zone.add("example.com", "AAAA", "2001:db8:1::1")

    assert check(sandbox, zone, "2001:db8:1::beef").result == "pass"
    assert check(sandbox, zone, "2001:db8:2::1").result == "fail"
    assert check(sandbox, zone, "192.0.2.200").result == "pass"


def test_it_expands_ipv6_macros_into_dotted_nibbles(sandbox: Sandbox) -> None:
    nibbles = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2"
    zone = zone_with({"example.com": "v=spf1 exists:%{ir}.%{v}._spf.%{d2} -all"})
    zone.add(f"{nibbles}.ip6._spf.example.com", "A", "127.0.0.2")

    assert check(sandbox, zone, "2001:db8::1").result == "pass"
    assert check(sandbox, zone, "2001:db8::2").result == "fail"


def test_it_checks_postmaster_at_the_helo_when_the_mail_from_is_empty(sandbox: Sandbox) -> None:
    zone = zone_with({"mail.example.com": "v=spf1 -all exp=why.example.com", "why.example.com": "%{s} via %{h}"})

    result = run(sandbox, zone, lambda net: check_host(net, "192.0.2.1", "mail.example.com", "", "mail.example.com"))

    assert result.result == "fail"
    assert result.explanation == "postmaster@mail.example.com via mail.example.com"


def test_it_returns_none_when_there_is_no_record_or_only_an_spf_type_record(sandbox: Sandbox) -> None:
    zone = zone_with({"other.example.com": "v=spf1 -all"})
    zone.add("example.com", "SPF", "v=spf1 -all")  # type 99 is not consulted any more

    assert check(sandbox, zone, "192.0.2.1").result == "none"
    assert check(sandbox, zone, "192.0.2.1", sender="founder@nowhere.example.com").result == "none"


def test_it_reads_a_4kb_record_spread_over_many_strings(sandbox: Sandbox) -> None:
    terms = [f"ip4:198.51.{i // 250}.{i % 250}/32" for i in range(220)]
    record = "v=spf1 " + " ".join(terms) + " -all"
    assert 4000 < len(record) < 4600
    zone = zone_with({"example.com": record})

    result = check(sandbox, zone, "198.51.0.219")
    analysis = analysis_of(sandbox, zone)

    assert result.result == "pass"
    assert result.mechanism == "ip4:198.51.0.219/32"
    assert analysis.status == "ok"
    assert analysis.record == record
    assert analysis.dns_lookups == 0


def test_it_stops_an_include_loop(sandbox: Sandbox) -> None:
    zone = zone_with(
        {"example.com": "v=spf1 include:loop.example.com -all", "loop.example.com": "v=spf1 include:example.com ~all"}
    )

    started = time.monotonic()
    result = check(sandbox, zone, "192.0.2.1")
    analysis = analysis_of(sandbox, zone)

    assert time.monotonic() - started < 3
    assert result.result == "permerror"
    assert "more than 10" in result.problem
    assert analysis.loops == ["example.com → loop.example.com → example.com"]
    assert analysis.over_lookup_limit
    assert any("loop" in problem for problem in analysis.problems)


def test_it_counts_fifty_includes_past_the_lookup_limit(sandbox: Sandbox) -> None:
    includes = [f"s{i}.example.com" for i in range(1, 51)]
    zone = zone_with({"example.com": "v=spf1 " + " ".join(f"include:{name}" for name in includes) + " -all"})
    for i, name in enumerate(includes, start=1):
        zone.add(name, "TXT", f"v=spf1 ip4:203.0.113.{i} -all")

    early = check(sandbox, zone, "203.0.113.3")
    late = check(sandbox, zone, "203.0.113.50")
    analysis = analysis_of(sandbox, zone)

    assert early.result == "pass"
    assert early.dns_lookups == 3
    assert late.result == "permerror"
    assert "include:s11.example.com" in late.problem
    assert analysis.dns_lookups == 50
    assert analysis.includes == includes
    assert analysis.over_lookup_limit


def test_it_gives_permerror_after_more_than_two_void_lookups(sandbox: Sandbox) -> None:
    two = zone_with({"example.com": "v=spf1 a:gone1.example.com mx:gone2.example.com -all"})
    three = zone_with({"example.com": "v=spf1 a:gone1.example.com mx:gone2.example.com exists:gone3.example.com -all"})

    at_limit = check(sandbox, two, "192.0.2.1")
    over_limit = check(sandbox, three, "192.0.2.1")

    assert (at_limit.result, at_limit.void_lookups) == ("fail", 2)
    assert (over_limit.result, over_limit.void_lookups) == ("permerror", 3)
    assert "gone3.example.com" in over_limit.problem


def test_it_counts_includes_of_missing_domains_as_void_lookups_in_the_analysis(sandbox: Sandbox) -> None:
    zone = zone_with(
        {"example.com": "v=spf1 include:gone1.example.com include:gone2.example.com include:gone3.example.com -all"}
    )

    analysis = analysis_of(sandbox, zone)

    assert analysis.void_lookups == 3
    assert analysis.over_void_limit
    assert analysis.tree is not None
    assert [node.status for node in analysis.tree.children] == ["missing"] * 3


def test_it_spots_plus_all_and_question_all_through_a_redirect(sandbox: Sandbox) -> None:
    open_zone = zone_with({"example.com": "v=spf1 include:_spf.google.com +all"})
    neutral_zone = zone_with(
        {"example.com": "v=spf1 redirect=_spf.example.com", "_spf.example.com": "v=spf1 ip4:192.0.2.1 ?all"}
    )

    wide_open = analysis_of(sandbox, open_zone)
    neutral = analysis_of(sandbox, neutral_zone)

    assert wide_open.all_qualifier == "+"
    assert any("+all" in problem for problem in wide_open.problems)
    assert neutral.all_qualifier == "?"
    assert neutral.redirects == ["_spf.example.com"]
    assert neutral.dns_lookups == 1


def test_it_reports_multiple_records(sandbox: Sandbox) -> None:
    zone = zone_with(
        {
            "example.com": [
                "v=spf1 include:_spf.google.com ~all",
                "v=spf1 include:sendgrid.net ~all",
                "google-site-verification=x",
            ]
        }
    )

    analysis = analysis_of(sandbox, zone)
    result = check(sandbox, zone, "192.0.2.1")

    assert analysis.status == "multiple"
    assert sorted(analysis.records) == ["v=spf1 include:_spf.google.com ~all", "v=spf1 include:sendgrid.net ~all"]
    assert result.result == "permerror"
    assert "2 SPF records" in result.problem


def test_it_names_the_term_with_a_syntax_error(sandbox: Sandbox) -> None:
    zone = zone_with({"example.com": "v=spf1 ip4:192.0.2.1 inclde:_spf.google.com ip4:192.0.2.300 -all"})

    analysis = analysis_of(sandbox, zone)
    result = check(sandbox, zone, "192.0.2.1")

    assert analysis.status == "syntax_error"
    assert analysis.syntax_errors == [
        SpfSyntaxError("example.com", "inclde:_spf.google.com", "unknown mechanism 'inclde'"),
        SpfSyntaxError("example.com", "ip4:192.0.2.300", "'192.0.2.300' is not an IPv4 address"),
    ]
    assert result.result == "permerror"  # even though the first term matches: errors anywhere count
    assert "inclde:_spf.google.com" in result.problem


def test_it_reports_servfail_as_a_dns_error_not_as_a_missing_record(sandbox: Sandbox) -> None:
    zone = zone_with({"example.com": "v=spf1 -all"})
    zone.behave("example.com", servfail=True)

    analysis = analysis_of(sandbox, zone)
    result = check(sandbox, zone, "192.0.2.1")

    assert analysis.status == "dns_error"
    assert [(f.name, f.status) for f in analysis.dns_failures] == [("example.com", "servfail")]
    assert "not a missing record" in analysis.problems[0]
    assert result.result == "temperror"


def test_it_reports_a_timeout_as_a_dns_error_and_stays_quick(sandbox: Sandbox) -> None:
    zone = zone_with({"example.com": "v=spf1 include:silent.example.com -all"})
    zone.behave("silent.example.com", timeout=True)
    zone.behave("silent2.example.com", timeout=True)

    started = time.monotonic()
    analysis = analysis_of(sandbox, zone, dns_timeout=0.5, dns_lifetime=1.0)
    root_silent = analysis_of(sandbox, zone, "silent2.example.com", dns_timeout=0.5, dns_lifetime=1.0)
    result = check(sandbox, zone, "192.0.2.1", dns_timeout=0.5, dns_lifetime=1.0)

    assert time.monotonic() - started < 6
    assert analysis.status == "ok"
    assert [(f.name, f.status) for f in analysis.dns_failures] == [("silent.example.com", "timeout")]
    assert analysis.void_lookups == 0
    assert root_silent.status == "dns_error"
    assert root_silent.dns_failures[0].status == "timeout"
    assert result.result == "temperror"
    assert "silent.example.com" in result.problem


def test_it_survives_a_cname_loop(sandbox: Sandbox) -> None:
    zone = zone_with({"example.com": "v=spf1 include:spf.example.com -all"})
    zone.add("spf.example.com", "CNAME", "spf2.example.com")
    zone.add("spf2.example.com", "CNAME", "spf.example.com")

    started = time.monotonic()
    analysis = analysis_of(sandbox, zone)
    result = check(sandbox, zone, "192.0.2.1")

    assert time.monotonic() - started < 3
    assert analysis.status == "ok"
    assert [f.name for f in analysis.dns_failures] == ["spf.example.com"]
    assert result.result == "temperror"


def test_it_walks_includes_recursively(sandbox: Sandbox) -> None:
    zone = zone_with(
        {
            "example.com": "v=spf1 include:_spf.google.com include:%{ir}.dyn.example.com mx ~all",
            "_spf.google.com": "v=spf1 include:_netblocks.google.com ~all",
            "_netblocks.google.com": "v=spf1 ip4:172.217.0.0/19 ~all",
        }
    )

    analysis = analysis_of(sandbox, zone)

    assert analysis.includes == ["_spf.google.com", "_netblocks.google.com"]
    assert analysis.unresolved == ["include:%{ir}.dyn.example.com"]
    assert analysis.dns_lookups == 4  # three terms at the root, one in _spf.google.com
    assert analysis.all_qualifier == "~"


# --- Providers ------------------------------------------------------------------------------------


def test_it_knows_the_include_of_every_provider_the_project_offers() -> None:
    assert set(PROVIDER_INCLUDES) == {
        "google", "microsoft", "sendgrid", "mailgun", "postmark", "ses",
        "resend", "mailchimp", "brevo", "zoho", "fastmail", "hubspot",
    }  # fmt: skip
    assert PROVIDER_INCLUDES["google"] == ["_spf.google.com"]
    assert PROVIDER_INCLUDES["microsoft"] == ["spf.protection.outlook.com"]
    assert "amazonses.com" in PROVIDER_INCLUDES["resend"]
    assert all(PROVIDER_INCLUDES.values())


def test_it_finds_providers_the_record_does_not_authorise(sandbox: Sandbox) -> None:
    zone = zone_with(
        {
            "example.com": "v=spf1 include:_spf.google.com include:sendgrid.net "
            "include:12345.spf03.hubspotemail.net ~all",
            "_spf.google.com": "v=spf1 ip4:172.217.0.0/19 ~all",
            "sendgrid.net": "v=spf1 ip4:167.89.0.0/17 ~all",
            "12345.spf03.hubspotemail.net": "v=spf1 ip4:3.93.157.0/24 -all",
        }
    )

    analysis = analysis_of(sandbox, zone)

    missing = unauthorised_providers(analysis, ["google", "sendgrid", "hubspot", "postmark", "resend"])
    assert missing == ["postmark", "resend"]


def test_it_counts_a_redirect_to_a_provider_as_authorising_it(sandbox: Sandbox) -> None:
    zone = zone_with(
        {"example.com": "v=spf1 redirect=_spf.google.com", "_spf.google.com": "v=spf1 ip4:172.217.0.0/19 ~all"}
    )

    analysis = analysis_of(sandbox, zone)

    assert unauthorised_providers(analysis, ["google", "microsoft"]) == ["microsoft"]
