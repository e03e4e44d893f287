"""DMARC: OpenDMARC's parse vectors read with RFC 9989 semantics, and policy discovery on the sandbox DNS."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audits.email.dmarc import (
    Code,
    DiscoveryStatus,
    DmarcDiscovery,
    PolicyRole,
    RecordStatus,
    authorisation_record,
    discover,
    external_rua_authorised,
    needs_authorisation,
    next_step_record,
    parse_record,
    suggested_record,
    walk_names,
)
from launchready.net import DnsStatus, Net
from launchready.sandbox.dns_server import ZoneData
from launchready.sandbox.runner import Sandbox

VECTORS_FILE = Path(__file__).resolve().parents[1] / "data/dmarc/opendmarc-parse-vectors.tsv"


def _vectors() -> list[tuple[int, str, str]]:
    rows = []
    for line in VECTORS_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        number, record, expected = line.split("\t")
        rows.append((int(number), record, expected))
    return rows


VECTORS = _vectors()

# What each vector becomes under RFC 9989: (status, codes that must be reported, policy receivers apply).
RFC9989: dict[int, tuple[RecordStatus, set[Code], str | None]] = {
    1: (RecordStatus.VALID, {Code.REMOVED_TAG, Code.POLICY_NONE}, "none"),
    2: (RecordStatus.VALID, {Code.POLICY_NONE_NO_REPORTS}, "none"),
    3: (RecordStatus.VALID, set(), "reject"),
    4: (RecordStatus.VALID, set(), "quarantine"),
    5: (RecordStatus.INVALID, {Code.BAD_VALUE, Code.NO_POLICY}, None),
    6: (RecordStatus.NOT_DMARC, {Code.EMPTY}, None),
    7: (RecordStatus.NOT_DMARC, {Code.BAD_VERSION}, None),
    8: (RecordStatus.INVALID, {Code.BAD_VALUE, Code.NO_POLICY}, None),
    9: (RecordStatus.INVALID, {Code.BAD_VALUE, Code.NO_POLICY}, None),
    10: (RecordStatus.INVALID, {Code.BAD_VALUE}, "none"),
    11: (RecordStatus.INVALID, {Code.BAD_VALUE}, "none"),
    12: (RecordStatus.VALID, {Code.REMOVED_TAG}, "none"),
    13: (RecordStatus.VALID, {Code.REMOVED_TAG}, "none"),
    14: (RecordStatus.VALID, {Code.REMOVED_TAG}, "none"),
    # Case 15, "v=DMARC1; pct=100;": pct is a removed tag (a warning), and the record has no p. RFC 9989
    # makes p optional (section 4.7) but section 4.10.1 says a record without a valid p is treated as
    # p=none only if its rua holds a valid URI; otherwise "the Mail Receiver applies no DMARC processing".
    # This record has no rua, so it still does nothing: an error, now for that reason (no_policy).
    15: (RecordStatus.INVALID, {Code.NO_POLICY, Code.REMOVED_TAG}, None),
    16: (RecordStatus.VALID, {Code.UNSUPPORTED_URI_SCHEME}, "none"),
    17: (RecordStatus.VALID, {Code.BAD_MAILTO}, "none"),
    18: (RecordStatus.VALID, {Code.UNKNOWN_TAG}, "none"),
    19: (RecordStatus.VALID, {Code.REMOVED_TAG}, "none"),
}

# Where the RFC 9989 verdict (error or not) departs from OpenDMARC's RFC 7489-era one, and why.
DEPARTURES = {
    # OpenDMARC accepts "n" as an abbreviation of "none"; neither RFC 7489's nor RFC 9989's grammar does
    # (dmarc-request = "none" / "quarantine" / "reject"), so receivers discard p=n and, with no rua,
    # apply no DMARC processing.
    5: "p=n is not a policy value",
    12: "rf was removed by RFC 9989: a warning, not an error",
    13: "ri was removed by RFC 9989: a warning, not an error",
    14: "pct was removed by RFC 9989: a warning, not an error",
    19: "rf was removed by RFC 9989: a warning, not an error",
}


def test_it_reads_all_nineteen_vectors() -> None:
    assert [n for n, _, _ in VECTORS] == list(range(1, 20))


@pytest.mark.parametrize(("number", "text", "opendmarc"), VECTORS, ids=[f"vector-{n}" for n, _, _ in VECTORS])
def test_it_parses_the_opendmarc_vector_with_rfc9989_semantics(number: int, text: str, opendmarc: str) -> None:
    record = parse_record(text)
    status, codes, policy = RFC9989[number]
    assert record.status == status
    assert codes <= set(record.codes), record.codes
    assert record.policy == policy
    opendmarc_ok = opendmarc == "DMARC_PARSE_OKAY"
    assert (not record.errors) == (opendmarc_ok != (number in DEPARTURES))
    assert all(p.message for p in (*record.errors, *record.warnings))


@pytest.mark.parametrize("removed", ["pct=500", "pct=abc", "rf=bob", "rf=000000000000000000", "ri=-5", "ri=", "pct=0"])
def test_it_only_warns_about_removed_tags_whatever_their_value(removed: str) -> None:
    record = parse_record(f"v=DMARC1; p=reject; {removed}; rua=mailto:d@example.com")
    assert record.status == RecordStatus.VALID
    assert not record.errors
    assert record.codes == [Code.REMOVED_TAG]
    assert record.removed_tags == [removed.split("=")[0]]
    assert "RFC 9989" in record.warnings[0].message


def test_it_treats_a_record_without_p_but_with_rua_as_p_none() -> None:
    record = parse_record("v=DMARC1; rua=mailto:dmarc@example.com")
    assert record.status == RecordStatus.VALID
    assert record.p is None
    assert record.policy == "none"
    assert Code.TREATED_AS_NONE in record.codes


def test_it_treats_an_invalid_p_with_rua_as_p_none_but_reports_the_error() -> None:
    record = parse_record("v=DMARC1; p=rejct; rua=mailto:dmarc@example.com")
    assert record.status == RecordStatus.INVALID
    assert [e.tag for e in record.errors] == ["p"]
    assert record.policy == "none"


def test_it_follows_the_rfc_literally_on_an_invalid_sp() -> None:
    # 4.10.1: "contains an sp or np tag that is not valid" -> p=none with a rua, no DMARC processing without.
    without_rua = parse_record("v=DMARC1; p=reject; sp=quarantin")
    assert without_rua.policy is None
    assert Code.NO_POLICY in without_rua.codes
    with_rua = parse_record("v=DMARC1; p=reject; np=bogus; rua=mailto:d@example.com")
    assert with_rua.policy == "none"
    assert with_rua.policy_for(subdomain=True) == "none"


def test_it_reads_the_new_tags() -> None:
    record = parse_record("v=DMARC1; p=reject; sp=quarantine; np=reject; t=y; psd=n; adkim=s; aspf=S; fo=0:d")
    assert (record.p, record.sp, record.np, record.psd, record.adkim, record.aspf) == (
        "reject",
        "quarantine",
        "reject",
        "n",
        "s",
        "s",
    )
    assert record.testing
    assert record.fo == ("0", "d")
    assert record.policy_for(subdomain=True) == "quarantine"
    assert record.policy_for(subdomain=True, exists=False) == "reject"
    assert Code.TESTING in record.codes


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("v=DMARC1; p=none; np=maybe", "np"),
        ("v=DMARC1; p=none; t=yes", "t"),
        ("v=DMARC1; p=none; psd=x", "psd"),
        ("v=DMARC1; p=none; fo=0:1", "fo"),
        ("v=DMARC1; p=none; adkim=", "adkim"),
    ],
)
def test_it_calls_an_invalid_value_an_error(text: str, tag: str) -> None:
    record = parse_record(text)
    assert record.status == RecordStatus.INVALID
    assert [(e.code, e.tag) for e in record.errors if e.code == Code.BAD_VALUE] == [(Code.BAD_VALUE, tag)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("p=none; v=DMARC1", Code.VERSION_NOT_FIRST),
        ("v=dmarc1; p=none", Code.BAD_VERSION),
        ("v=DMARC1 p=none", Code.BAD_VERSION),
        ("v=DMARC2; p=none", Code.BAD_VERSION),
        ("   ", Code.EMPTY),
    ],
)
def test_it_ignores_what_does_not_start_with_v_dmarc1(text: str, code: Code) -> None:
    record = parse_record(text)
    assert record.status == RecordStatus.NOT_DMARC
    assert record.codes == [code]
    assert record.policy is None


def test_it_accepts_spaces_around_tags_and_a_trailing_semicolon() -> None:
    record = parse_record("v = DMARC1 ;  p = Quarantine ; rua = mailto:d@example.com ;")
    assert record.status == RecordStatus.VALID
    assert record.policy == "quarantine"


def test_it_rejects_a_duplicated_tag() -> None:
    record = parse_record("v=DMARC1; p=reject; p=none")
    assert record.status == RecordStatus.INVALID
    assert Code.DUPLICATE_TAG in record.codes
    assert record.policy is None


def test_it_parses_report_uris() -> None:
    record = parse_record(
        "v=DMARC1; p=none; rua=mailto:agg@Example.com!10m, mailto:vendor%2Bacme@reports.vendor.example, "
        "https://collector.example/dmarc; ruf=mailto:forensic@example.com"
    )
    first, second, third = record.rua
    assert (first.address, first.host, first.size_limit) == ("agg@Example.com", "example.com", "10m")
    assert (second.address, second.host) == ("vendor+acme@reports.vendor.example", "reports.vendor.example")
    assert (third.scheme, third.host, third.is_mailbox) == ("https", "collector.example", False)
    assert record.ruf[0].host == "example.com"
    assert {Code.REPORT_SIZE_OBSOLETE, Code.UNSUPPORTED_URI_SCHEME, Code.POLICY_NONE} <= set(record.codes)
    assert record.reports_requested


def test_it_calls_a_rua_that_is_not_a_uri_an_error() -> None:
    record = parse_record("v=DMARC1; p=none; rua=dmarc@example.com")
    assert record.status == RecordStatus.INVALID
    assert Code.BAD_URI in record.codes
    assert not record.reports_requested


def test_it_distinguishes_p_none_with_and_without_reports() -> None:
    with_reports = parse_record("v=DMARC1; p=none; rua=mailto:dmarc@example.com")
    without = parse_record("v=DMARC1; p=none")
    assert with_reports.codes == [Code.POLICY_NONE]
    assert without.codes == [Code.POLICY_NONE_NO_REPORTS]
    assert with_reports.status == without.status == RecordStatus.VALID


# --- Fixes -----------------------------------------------------------------------------------------


def test_it_suggests_the_exact_records_to_publish() -> None:
    assert suggested_record("Example.com") == "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"
    assert suggested_record("example.com", "quarantine") == (
        "v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.com"
    )
    assert suggested_record("example.com", "reject", rua="ops@example.com", subdomain_policy="quarantine") == (
        "v=DMARC1; p=reject; sp=quarantine; rua=mailto:ops@example.com"
    )
    with pytest.raises(ValueError, match="policy"):
        suggested_record("example.com", "block")


def test_it_suggests_the_next_step_keeping_the_report_address() -> None:
    assert next_step_record("example.com", None) == "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com"
    monitoring = parse_record("v=DMARC1; p=none; pct=100; rua=mailto:ops@example.com")
    assert next_step_record("example.com", monitoring) == "v=DMARC1; p=quarantine; rua=mailto:ops@example.com"
    quarantined = parse_record("v=DMARC1; p=quarantine")
    assert next_step_record("example.com", quarantined) == ("v=DMARC1; p=reject; rua=mailto:dmarc-reports@example.com")
    for suggestion in (suggested_record("example.com", p) for p in ("none", "quarantine", "reject")):
        assert parse_record(suggestion).status == RecordStatus.VALID
        assert not {"pct", "rf", "ri"} & set(parse_record(suggestion).tags)


# --- Discovery on the sandbox ----------------------------------------------------------------------

DEEP = "a.b.c.d.e.f.g.h.i.example.com"  # 11 labels


def _zone() -> ZoneData:
    zone = ZoneData()
    zone.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.com")
    zone.add("www.example.com", "A", "192.0.2.10")
    # Records at an intermediate name and at the organizational domain.
    zone.add("_dmarc.mail.example.org", "TXT", "v=DMARC1; p=none; rua=mailto:d@example.org")
    zone.add("_dmarc.example.org", "TXT", "v=DMARC1; p=reject; rua=mailto:d@example.org")
    # A department that declares itself an organizational domain.
    zone.add("_dmarc.dept.corp.example", "TXT", "v=DMARC1; p=quarantine; psd=n")
    zone.add("_dmarc.corp.example", "TXT", "v=DMARC1; p=reject")
    # RFC 9989 appendix B.4.3: a public suffix operator's record.
    zone.add("_dmarc.bank.example", "TXT", "v=DMARC1; p=reject; sp=quarantine; psd=y")
    zone.add("_dmarc.giant.bank.example", "TXT", "v=DMARC1; p=none; rua=mailto:d@giant.bank.example")
    # A PSL private suffix that publishes a record without psd=y; a name under a multi-label suffix.
    zone.add("_dmarc.github.io", "TXT", "v=DMARC1; p=none")
    zone.add("_dmarc.team.example.co.uk", "TXT", "v=DMARC1; p=reject")
    # Several records, DNS failures, a typo.
    zone.add("_dmarc.two.example", "TXT", "v=DMARC1; p=none")
    zone.add("_dmarc.two.example", "TXT", "v=DMARC1; p=reject")
    zone.add("_dmarc.shop.example.com", "TXT", "v=DMARC1; p=none")
    zone.add("_dmarc.shop.example.com", "TXT", "v=DMARC1; p=quarantine")
    zone.behave("_dmarc.broken.example", servfail=True)
    zone.behave("_dmarc.parent-broken.example", servfail=True)
    zone.add("_dmarc.own.parent-broken.example", "TXT", "v=DMARC1; p=reject")
    zone.add("_dmarc.typo.example", "TXT", "v=DMARC1 p=reject")
    zone.add("_dmarc.typo.example", "TXT", "google-site-verification=abc")
    # Removed tags, p=none with and without reports, an IDN.
    zone.add("_dmarc.old.example", "TXT", "v=DMARC1; p=quarantine; pct=50; rf=afrf; ri=3600")
    zone.add("_dmarc.monitor.example", "TXT", "v=DMARC1; p=none; rua=mailto:dmarc@monitor.example")
    zone.add("_dmarc.silent.example", "TXT", "v=DMARC1; p=none")
    zone.add("_dmarc.xn--bcher-kva.example", "TXT", "v=DMARC1; p=reject")
    # External report destinations.
    zone.add("_dmarc.client.example", "TXT", "v=DMARC1; p=none; rua=mailto:reports@dmarc-vendor.example")
    zone.add("client.example._report._dmarc.dmarc-vendor.example", "TXT", "v=DMARC1;")
    zone.add("*._report._dmarc.wildcard-vendor.example", "TXT", "v=DMARC1")
    zone.add("client.example._report._dmarc.not-dmarc.example", "TXT", "hello")
    zone.behave("client.example._report._dmarc.flaky-vendor.example", servfail=True)
    return zone


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(_zone()) as sb:
        yield sb


def _discover(sb: Sandbox, domain: str, **config: Any) -> DmarcDiscovery:
    async def main() -> DmarcDiscovery:
        async with Net(dataclasses.replace(sb.net_config(), **config)) as net:
            return await discover(net, domain)

    return asyncio.run(main())


def _authorised(sb: Sandbox, domain: str, uri: str) -> bool | None:
    async def main() -> bool | None:
        async with Net(sb.net_config()) as net:
            return await external_rua_authorised(net, domain, uri)

    return asyncio.run(main())


def test_it_finds_the_record_at_the_domain(sandbox: Sandbox) -> None:
    found = _discover(sandbox, "Example.COM.")
    assert found.status == DiscoveryStatus.FOUND
    assert (found.found_at, found.role, found.policy) == ("example.com", PolicyRole.DOMAIN, "reject")
    assert found.queried == ["_dmarc.example.com", "_dmarc.com"]
    assert found.organizational_domain == found.psl_organizational_domain == "example.com"
    assert not found.psl_disagrees
    assert found.problems == []


def test_it_shortens_a_long_name_to_seven_labels_then_walks_to_the_root(sandbox: Sandbox) -> None:
    found = _discover(sandbox, DEEP)
    assert found.queried == [
        "_dmarc.a.b.c.d.e.f.g.h.i.example.com",
        "_dmarc.e.f.g.h.i.example.com",
        "_dmarc.f.g.h.i.example.com",
        "_dmarc.g.h.i.example.com",
        "_dmarc.h.i.example.com",
        "_dmarc.i.example.com",
        "_dmarc.example.com",
        "_dmarc.com",
    ]
    assert found.status == DiscoveryStatus.FOUND
    assert (found.found_at, found.role, found.organizational_domain) == (
        "example.com",
        PolicyRole.ORGANIZATIONAL,
        "example.com",
    )
    assert found.policy == "quarantine"  # a subdomain inherits sp=


def test_it_lists_the_walk_as_the_rfc_example_does() -> None:
    assert walk_names("a.b.c.d.e.f.g.h.i.j.mail.example.com") == [
        "a.b.c.d.e.f.g.h.i.j.mail.example.com",
        "g.h.i.j.mail.example.com",
        "h.i.j.mail.example.com",
        "i.j.mail.example.com",
        "j.mail.example.com",
        "mail.example.com",
        "example.com",
        "com",
    ]
    assert walk_names("b.c.d.e.f.g.h.example") == ["b.c.d.e.f.g.h.example", *walk_names("c.d.e.f.g.h.example")]
    assert walk_names("com") == ["com"]


def test_it_applies_the_organizational_domains_record_not_an_intermediate_one(sandbox: Sandbox) -> None:
    # RFC 9989 4.10.1: own record, else the organizational domain's (fewest labels), else the PSD's.
    found = _discover(sandbox, "a.mail.example.org")
    assert (found.found_at, found.organizational_domain, found.policy) == ("example.org", "example.org", "reject")


def test_it_stops_the_walk_at_psd_n(sandbox: Sandbox) -> None:
    found = _discover(sandbox, "mail.dept.corp.example")
    assert found.queried == ["_dmarc.mail.dept.corp.example", "_dmarc.dept.corp.example"]
    assert (found.found_at, found.organizational_domain, found.policy) == (
        "dept.corp.example",
        "dept.corp.example",
        "quarantine",
    )
    assert found.psl_organizational_domain == "corp.example"
    assert "psd=n" in found.disagreement


def test_it_takes_the_domain_below_a_psd_y_record_as_organizational(sandbox: Sandbox) -> None:
    own = _discover(sandbox, "giant.bank.example")
    assert (own.role, own.found_at, own.organizational_domain, own.policy) == (
        PolicyRole.DOMAIN,
        "giant.bank.example",
        "giant.bank.example",
        "none",
    )
    inherited = _discover(sandbox, "mail.mega.bank.example")
    assert inherited.queried == ["_dmarc.mail.mega.bank.example", "_dmarc.mega.bank.example", "_dmarc.bank.example"]
    assert inherited.organizational_domain == "mega.bank.example"
    assert (inherited.role, inherited.found_at, inherited.policy) == (
        PolicyRole.PUBLIC_SUFFIX,
        "bank.example",
        "quarantine",
    )


def test_it_says_where_the_public_suffix_list_disagrees_for_a_private_suffix(sandbox: Sandbox) -> None:
    found = _discover(sandbox, "acme.github.io")
    assert found.organizational_domain == "github.io"
    assert found.psl_organizational_domain == "acme.github.io"
    assert (found.found_at, found.psl_policy_domain) == ("github.io", None)
    assert found.psl_disagrees
    assert "RFC 7489 apply no record" in found.disagreement
    assert "psd=n at _dmarc.acme.github.io" in found.disagreement


def test_it_says_where_the_public_suffix_list_disagrees_under_a_multi_label_suffix(sandbox: Sandbox) -> None:
    found = _discover(sandbox, "mail.team.example.co.uk")
    assert found.queried == [
        "_dmarc.mail.team.example.co.uk",
        "_dmarc.team.example.co.uk",
        "_dmarc.example.co.uk",
        "_dmarc.co.uk",
        "_dmarc.uk",
    ]
    assert (found.organizational_domain, found.psl_organizational_domain) == ("team.example.co.uk", "example.co.uk")
    assert found.psl_disagrees
    assert "_dmarc.example.co.uk as well" in found.disagreement


def test_it_discards_several_records_at_one_name(sandbox: Sandbox) -> None:
    found = _discover(sandbox, "two.example")
    assert found.status == DiscoveryStatus.SEVERAL
    assert found.record is None and found.policy is None
    assert found.several_at == ["_dmarc.two.example"]
    assert Code.SEVERAL_RECORDS in found.codes


def test_it_falls_back_to_the_organizational_domain_past_several_records(sandbox: Sandbox) -> None:
    found = _discover(sandbox, "shop.example.com")
    assert found.status == DiscoveryStatus.FOUND
    assert (found.found_at, found.policy) == ("example.com", "quarantine")
    assert found.codes == [Code.SEVERAL_RECORDS]


def test_it_reports_a_servfail_as_a_failure_not_as_no_record(sandbox: Sandbox) -> None:
    found = _discover(sandbox, "broken.example")
    assert found.status == DiscoveryStatus.DNS_FAILURE
    assert found.failures[0].dns_status == DnsStatus.SERVFAIL
    assert Code.DNS_FAILURE in found.codes
    assert "not the same as having no record" in found.problems[0].message


def test_it_cannot_conclude_when_a_parent_fails_and_the_domain_has_no_record(sandbox: Sandbox) -> None:
    assert _discover(sandbox, "sub.parent-broken.example").status == DiscoveryStatus.DNS_FAILURE
    own = _discover(sandbox, "own.parent-broken.example")
    assert (own.status, own.found_at) == (DiscoveryStatus.FOUND, "own.parent-broken.example")
    assert Code.DNS_FAILURE in own.codes


def test_it_reports_a_timeout_as_a_failure_not_as_no_record() -> None:
    zone = ZoneData()
    zone.add("_dmarc.example", "TXT", "v=DMARC1; p=reject")
    zone.behave("_dmarc.slow.example", timeout=True)
    with Sandbox(zone) as sb:
        found = _discover(sb, "slow.example", dns_lifetime=1.0)
    assert found.status == DiscoveryStatus.DNS_FAILURE
    assert found.steps[0].dns_status == DnsStatus.TIMEOUT
    assert found.record is None
    assert "in time" in found.problems[0].message


def test_it_finds_nothing_when_dns_answers_that_there_is_nothing(sandbox: Sandbox) -> None:
    found = _discover(sandbox, "nothing.example")
    assert found.status == DiscoveryStatus.NOT_FOUND
    assert found.organizational_domain == "nothing.example"
    assert not found.psl_disagrees


def test_it_points_at_a_record_that_looks_like_dmarc_but_is_ignored(sandbox: Sandbox) -> None:
    found = _discover(sandbox, "typo.example")
    assert found.status == DiscoveryStatus.NOT_FOUND
    assert found.codes == [Code.MALFORMED_RECORD]
    assert "v=DMARC1 p=reject" in found.problems[0].message


def test_it_warns_about_removed_tags_in_a_published_record(sandbox: Sandbox) -> None:
    found = _discover(sandbox, "old.example")
    assert found.record is not None
    assert found.record.status == RecordStatus.VALID
    assert found.record.removed_tags == ["pct", "rf", "ri"]
    assert found.policy == "quarantine"


def test_it_tells_p_none_with_reports_from_p_none_without(sandbox: Sandbox) -> None:
    monitoring, silent = _discover(sandbox, "monitor.example"), _discover(sandbox, "silent.example")
    assert monitoring.policy == silent.policy == "none"
    assert monitoring.record is not None and silent.record is not None
    assert monitoring.record.codes == [Code.POLICY_NONE]
    assert silent.record.codes == [Code.POLICY_NONE_NO_REPORTS]


def test_it_looks_up_an_idn_by_its_a_label(sandbox: Sandbox) -> None:
    found = _discover(sandbox, "BÜCHER.example")
    assert (found.domain, found.status, found.policy) == ("xn--bcher-kva.example", DiscoveryStatus.FOUND, "reject")


def test_it_checks_that_an_external_report_destination_agreed(sandbox: Sandbox) -> None:
    assert _authorised(sandbox, "client.example", "mailto:reports@dmarc-vendor.example") is True
    assert _authorised(sandbox, "client.example", "mailto:reports@wildcard-vendor.example") is True
    assert _authorised(sandbox, "client.example", "mailto:reports@other-vendor.example") is False
    assert _authorised(sandbox, "client.example", "mailto:reports@not-dmarc.example") is False
    assert _authorised(sandbox, "client.example", "mailto://nobody") is False
    assert _authorised(sandbox, "client.example", "mailto:reports@flaky-vendor.example") is None


def test_it_knows_which_destinations_need_an_authorisation() -> None:
    assert needs_authorisation("client.example", "mailto:reports@dmarc-vendor.example")
    assert not needs_authorisation("client.example", "mailto:dmarc@mail.client.example")
    assert not needs_authorisation("shop.example.co.uk", "mailto:dmarc@example.co.uk")
    assert needs_authorisation("example.co.uk", "mailto:dmarc@other.co.uk")
    assert authorisation_record("Client.example", "mailto:r@dmarc-vendor.example") == (
        'client.example._report._dmarc.dmarc-vendor.example TXT "v=DMARC1;"'
    )
