"""The verdict on one received message, as a receiving mail server would reach it: SPF for the connecting address
(MAIL FROM and HELO, with the product's own SPF engine), DKIM for every signature (dkimpy), DMARC alignment of
both with the From domain under its policy, TLS, reverse DNS and HELO, and the headers (From, Date, Message-ID,
List-Unsubscribe for bulk mail, MIME structure), the ARC chain a forwarder added, and the DNS blocklists for the
sending address and the domains the body links to. Each problem is a finding with its evidence; the wording and the
fix are in the catalog. Every DNS question goes through launchready/net.py."""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from audits.catalog import severity_of
from audits.email.dmarc import DiscoveryStatus, DmarcDiscovery, discover, suggested_record
from audits.email.spf import SpfResult, check_host
from audits.findings import Finding, Severity
from audits.inbound.addresses import split_address
from audits.inbound.arc import ArcResult, verify_arc
from audits.inbound.blocklists import BlocklistResult, check_blocklists
from audits.inbound.headers import HeaderFacts, read_headers
from audits.inbound.signatures import SignatureResult, verify_signatures
from launchready.config import Blocklists
from launchready.net import Net

SEND_IDS = frozenset(
    {
        "email.send.authenticated",
        "email.send.spf_fail",
        "email.send.spf_none",
        "email.send.spf_error",
        "email.send.dkim_missing",
        "email.send.dkim_body_hash",
        "email.send.dkim_signature",
        "email.send.dkim_expired",
        "email.send.dkim_key_missing",
        "email.send.dkim_key_invalid",
        "email.send.dkim_weak_key",
        "email.send.dkim_key_1024",
        "email.send.dkim_length",
        "email.send.dkim_dns_failure",
        "email.send.dkim_malformed",
        "email.send.dmarc_fail",
        "email.send.dmarc_missing",
        "email.send.dmarc_dns_failure",
        "email.send.no_tls",
        "email.send.no_reverse_dns",
        "email.send.reverse_dns_mismatch",
        "email.send.helo_invalid",
        "email.send.from_invalid",
        "email.send.date_invalid",
        "email.send.message_id_invalid",
        "email.send.unsubscribe_missing",
        "email.send.malformed",
        "email.send.arc_broken",
        "email.send.arc_dns_failure",
        "email.send.address_listed",
        "email.send.link_listed",
        "email.send.blocklist_unchecked",
    }
)

# A DKIM signature's problem -> the finding it makes.
_DKIM_FINDINGS = {
    "body_hash": "email.send.dkim_body_hash",
    "signature": "email.send.dkim_signature",
    "expired": "email.send.dkim_expired",
    "key_missing": "email.send.dkim_key_missing",
    "key_revoked": "email.send.dkim_key_invalid",
    "key_invalid": "email.send.dkim_key_invalid",
    "key_too_small": "email.send.dkim_weak_key",
    "dns_failure": "email.send.dkim_dns_failure",
    "malformed": "email.send.dkim_malformed",
}


@dataclass(frozen=True)
class Envelope:
    """What the SMTP session showed: who connected, how it introduced itself, the envelope sender, TLS."""

    peer: str
    helo: str = ""
    mail_from: str = ""
    tls_version: str = ""
    received: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class ReverseDns:
    names: list[str] = field(default_factory=list)  # the PTR names of the connecting address
    confirmed: str = ""  # the first of them whose A/AAAA records include the address (forward-confirmed)
    status: str = ""  # the PTR question's DNS status


@dataclass
class Alignment:
    result: str  # pass, fail, none (no policy), temperror
    policy: str | None = None  # what receivers apply to this From domain (none, quarantine, reject)
    record: str = ""
    found_at: str = ""
    adkim: str = "r"
    aspf: str = "r"
    spf_aligned: bool = False
    dkim_aligned: bool = False
    aligned_dkim_domain: str = ""


@dataclass
class MessageVerdict:
    headers: HeaderFacts
    spf: SpfResult | None
    spf_domain: str
    helo_spf: SpfResult | None
    dkim: list[SignatureResult]
    dkim_problem: str
    dmarc: Alignment | None
    reverse_dns: ReverseDns
    tls_version: str
    arc: ArcResult = field(default_factory=ArcResult)
    blocklists: BlocklistResult = field(default_factory=BlocklistResult)
    findings: list[Finding] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Nothing a receiver would hold against the message: no blocker or high finding."""
        return not any(severity_of(f) in (Severity.BLOCKER, Severity.HIGH) for f in self.findings)

    def results(self) -> dict[str, Any]:
        """The checks' outcomes as plain data (what the page shows beside the findings)."""
        return {
            "spf": _spf_dict(self.spf, self.spf_domain),
            "helo_spf": _spf_dict(self.helo_spf, ""),
            "dkim": [signature.as_dict() for signature in self.dkim],
            "dkim_problem": self.dkim_problem,
            "dmarc": self.dmarc.__dict__ if self.dmarc else None,
            "reverse_dns": self.reverse_dns.__dict__,
            "tls_version": self.tls_version,
            "headers": self.headers.as_dict(),
            "arc": self.arc.as_dict(),
            "blocklists": self.blocklists.as_dict(),
        }


def _spf_dict(result: SpfResult | None, domain: str) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "result": result.result,
        "domain": domain or result.domain,
        "mechanism": result.mechanism,
        "record": result.record,
        "problem": result.problem,
    }


# --- The parts -----------------------------------------------------------------------------------


def _is_domain(name: str) -> bool:
    labels = name.rstrip(".").split(".")
    return len(labels) >= 2 and all(0 < len(label) < 64 for label in labels) and len(name) < 254


async def _spf(net: Net, envelope: Envelope) -> tuple[SpfResult | None, str, SpfResult | None]:
    """SPF for MAIL FROM (or, for a null sender, the HELO identity, RFC 7208 2.4) and for HELO on its own."""
    helo = envelope.helo.strip().lower().rstrip(".")
    mail_domain = split_address(envelope.mail_from)[1] or helo
    helo_check = check_host(net, envelope.peer, helo, f"postmaster@{helo}", helo) if _is_domain(helo) else None
    mail_check = (
        check_host(net, envelope.peer, mail_domain, envelope.mail_from, helo) if _is_domain(mail_domain) else None
    )
    mail_result, helo_result = await asyncio.gather(mail_check or _nothing(), helo_check or _nothing())
    return mail_result, mail_domain, helo_result


async def _nothing() -> None:
    return None


async def _reverse_dns(net: Net, peer: str) -> ReverseDns:
    address = ipaddress.ip_address(peer)
    answer = await net.dns(address.reverse_pointer, "PTR")
    found = ReverseDns(names=[name.rstrip(".").lower() for name in answer.values][:5], status=str(answer.status))
    rdtype = "A" if address.version == 4 else "AAAA"
    for name in found.names:
        forward = await net.dns(name, rdtype)
        if any(_same_address(value, address) for value in forward.values):
            found.confirmed = name
            break
    return found


def _same_address(value: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return ipaddress.ip_address(value) == address
    except ValueError:
        return False


async def _organizational(net: Net, domain: str, known: dict[str, str]) -> str:
    if domain not in known:
        known[domain] = (await discover(net, domain)).organizational_domain
    return known[domain]


async def _aligned(net: Net, identifier: str, author: str, mode: str, known: dict[str, str]) -> bool:
    """RFC 9989 3.2.1: strict is the same name; relaxed the same organizational domain."""
    identifier, author = identifier.lower().rstrip("."), author.lower().rstrip(".")
    if identifier == author:
        return True
    if mode == "s" or not identifier:
        return False
    return await _organizational(net, identifier, known) == await _organizational(net, author, known)


async def _dmarc(
    net: Net, author: str, spf: SpfResult | None, spf_domain: str, signatures: list[SignatureResult]
) -> tuple[Alignment, DmarcDiscovery]:
    discovery = await discover(net, author)
    record = discovery.record
    alignment = Alignment(result="none")
    if record is not None:
        alignment.adkim, alignment.aspf = record.adkim, record.aspf
        alignment.record, alignment.found_at = record.text[:500], discovery.found_at or ""
    known = {author: discovery.organizational_domain}
    if spf is not None and spf.result == "pass":
        alignment.spf_aligned = await _aligned(net, spf_domain, author, alignment.aspf, known)
    for signature in signatures:
        if signature.passed and await _aligned(net, signature.domain, author, alignment.adkim, known):
            alignment.dkim_aligned, alignment.aligned_dkim_domain = True, signature.domain
            break
    if discovery.status == DiscoveryStatus.DNS_FAILURE:
        alignment.result = "temperror"
    elif discovery.status == DiscoveryStatus.FOUND and discovery.policy is not None:
        alignment.policy = discovery.policy
        alignment.result = "pass" if alignment.spf_aligned or alignment.dkim_aligned else "fail"
    return alignment, discovery


# --- Findings ---------------------------------------------------------------------------------------


def spf_with(record: str | None, peer: str) -> str:
    """The SPF record with the sending address authorised: the mechanism added before the final all (or redirect)."""
    mechanism = f"ip6:{peer}" if ":" in peer else f"ip4:{peer}"
    if not record:
        return f"v=spf1 {mechanism} ~all"
    terms = record.split()
    for position, term in enumerate(terms):
        if term.lstrip("+-~?").lower() == "all" or term.lower().startswith("redirect="):
            return " ".join([*terms[:position], mechanism, *terms[position:]])
    return " ".join([*terms, mechanism])


def _spf_findings(verdict: MessageVerdict, envelope: Envelope) -> list[Finding]:
    spf, domain = verdict.spf, verdict.spf_domain
    evidence = {"ip": envelope.peer, "mail_from": envelope.mail_from[:320], "helo": envelope.helo[:255]}
    if spf is None:
        return [Finding("email.send.spf_none", domain or "(no domain)", evidence, {"domain": domain or "…"})]
    evidence |= {"result": spf.result, "record": spf.record or "", "problem": spf.problem}
    params = {"domain": domain, "ip": envelope.peer, "result": spf.result, "problem": spf.problem}
    if spf.result == "none":
        params["record"] = spf_with(None, envelope.peer)
        return [Finding("email.send.spf_none", domain, evidence, params)]
    if spf.result in ("fail", "softfail", "neutral"):
        params["record"] = spf_with(spf.record, envelope.peer)
        return [Finding("email.send.spf_fail", domain, evidence, params)]
    if spf.result in ("permerror", "temperror"):
        return [Finding("email.send.spf_error", domain, evidence, params)]
    return []


def _dkim_findings(verdict: MessageVerdict) -> list[Finding]:
    if verdict.dkim_problem:
        problem = {"problem": verdict.dkim_problem}
        return [Finding("email.send.malformed", "headers", problem, {"defects": verdict.dkim_problem})]
    if not verdict.dkim:
        return [Finding("email.send.dkim_missing", verdict.headers.from_domain, {}, {"domain": _author(verdict)})]
    findings = []
    for signature in verdict.dkim:
        evidence = signature.as_dict()
        params = {
            "domain": signature.domain or "…",
            "selector": signature.selector or "…",
            "name": signature.key_name,
            "problem": signature.detail,
            "bits": signature.key_bits or "…",
            "length": signature.body_length,
            "expired": _when(signature.expires),
        }
        subject = f"{signature.selector}._domainkey.{signature.domain}#{signature.index}"
        check_id = _DKIM_FINDINGS.get(signature.problem)
        if check_id is not None:
            findings.append(Finding(check_id, subject, evidence, params))
        if signature.passed and signature.key_bits is not None and signature.key_bits < 2048:
            findings.append(Finding("email.send.dkim_key_1024", subject, evidence, params))
        if signature.body_length is not None:
            findings.append(Finding("email.send.dkim_length", subject, evidence, params))
    return findings


def _when(timestamp: int | None) -> str:
    if timestamp is None:
        return "…"
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return str(timestamp)


def _author(verdict: MessageVerdict) -> str:
    return verdict.headers.from_domain or "the From domain"


def _dmarc_findings(verdict: MessageVerdict) -> list[Finding]:
    author, dmarc = verdict.headers.from_domain, verdict.dmarc
    if dmarc is None:
        return []
    evidence = dict(dmarc.__dict__)
    spf_result = verdict.spf.result if verdict.spf else "none"
    passing = [s.domain for s in verdict.dkim if s.passed]
    params: dict[str, Any] = {
        "domain": author,
        "policy": dmarc.policy or "none",
        "spf_domain": verdict.spf_domain or "none",
        "spf_result": spf_result,
        "dkim_domains": passing or "none",
        "record": suggested_record(author, "none"),
    }
    if dmarc.result == "temperror":
        return [Finding("email.send.dmarc_dns_failure", author, evidence, params)]
    if dmarc.result == "none":
        return [Finding("email.send.dmarc_missing", author, evidence, params)]
    if dmarc.result == "fail":
        severe = dmarc.policy in ("quarantine", "reject")
        params["effect"] = {
            "reject": "refuse it",
            "quarantine": "put it in spam",
        }.get(dmarc.policy or "", "deliver it for now, but report it as failing to you")
        return [Finding("email.send.dmarc_fail", author, evidence, params, Severity.BLOCKER if severe else None)]
    return []


def _server_findings(verdict: MessageVerdict, envelope: Envelope) -> list[Finding]:
    findings = []
    evidence = {"ip": envelope.peer, "helo": envelope.helo[:255], "ptr": verdict.reverse_dns.names}
    params = {"ip": envelope.peer, "helo": envelope.helo[:100] or "(nothing)"}
    if not envelope.tls_version:
        findings.append(Finding("email.send.no_tls", envelope.peer, evidence, params))
    rdns = verdict.reverse_dns
    if not rdns.names:
        findings.append(Finding("email.send.no_reverse_dns", envelope.peer, evidence, params))
    elif not rdns.confirmed:
        findings.append(
            Finding("email.send.reverse_dns_mismatch", envelope.peer, evidence, params | {"name": rdns.names[0]})
        )
    helo = envelope.helo.strip().lower().rstrip(".")
    problem = ""
    if not helo:
        problem = "gave no name at all"
    elif helo.startswith("[") or _is_ip(helo):
        problem = "gave an IP address instead of its host name"
    elif not _is_domain(helo) or helo in ("localhost", "localhost.localdomain"):
        problem = "gave a name that is not a public host name"
    elif rdns.confirmed and helo != rdns.confirmed:
        problem = f"gave a name other than its reverse DNS name ({rdns.confirmed})"
    if problem:
        findings.append(Finding("email.send.helo_invalid", envelope.peer, evidence, params | {"problem": problem}))
    return findings


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _header_findings(verdict: MessageVerdict) -> list[Finding]:
    facts, findings = verdict.headers, []
    evidence = {"from": facts.from_header, "date": facts.date, "message_id": facts.message_id}
    if facts.from_problem:
        findings.append(Finding("email.send.from_invalid", "From", evidence, {"problem": facts.from_problem}))
    if facts.date_problem:
        findings.append(Finding("email.send.date_invalid", "Date", evidence, {"problem": facts.date_problem}))
    if facts.message_id_problem:
        params = {"problem": facts.message_id_problem, "domain": _author(verdict)}
        findings.append(Finding("email.send.message_id_invalid", "Message-ID", evidence, params))
    if facts.unsubscribe_problem:
        unsubscribe = {"list_unsubscribe": facts.list_unsubscribe, "one_click": facts.one_click}
        params = {"problem": facts.unsubscribe_problem, "domain": _author(verdict)}
        findings.append(Finding("email.send.unsubscribe_missing", "List-Unsubscribe", unsubscribe, params))
    if facts.defects:
        params = {"defects": ", ".join(facts.defects)}
        findings.append(Finding("email.send.malformed", "MIME", {"defects": facts.defects}, params))
    return findings


def _arc_findings(verdict: MessageVerdict) -> list[Finding]:
    arc = verdict.arc
    if arc.result not in ("fail", "temperror"):
        return []
    dmarc = verdict.dmarc.result if verdict.dmarc else "none"
    evidence = {"result": arc.result, "instances": arc.instances, "sealer": arc.sealer, "detail": arc.detail}
    evidence["sets"] = [arc_set.__dict__ for arc_set in arc.sets]
    params: dict[str, Any] = {
        "sealer": arc.sealer or "a forwarder",
        "instances": arc.instances,
        "detail": arc.detail,
        "domain": _author(verdict),
    }
    subject = f"ARC {arc.sealer or '(no sealer)'}"
    if arc.result == "temperror":
        return [Finding("email.send.arc_dns_failure", subject, evidence, params)]
    if dmarc == "fail":
        params["consequence"] = (
            "This email also fails DMARC, and with the seal broken a receiver cannot fall back on the forwarder's "
            "earlier results to accept it anyway: it is treated as DMARC says."
        )
        return [Finding("email.send.arc_broken", subject, evidence, params, Severity.MEDIUM)]
    params["consequence"] = (
        "This email passes DMARC on its own, so the broken seal changes nothing for it; it only matters once a "
        "forwarder breaks your own SPF or DKIM."
        if dmarc == "pass"
        else "Receivers simply ignore the chain; what counts is SPF, DKIM and DMARC for your own domain."
    )
    return [Finding("email.send.arc_broken", subject, evidence, params)]


def _blocklist_findings(verdict: MessageVerdict) -> list[Finding]:
    result, findings = verdict.blocklists, []
    for listing in result.of("listed"):
        evidence = {
            "zone": listing.zone,
            "codes": listing.codes,
            "meaning": listing.meaning,
            listing.kind: listing.subject,
        }
        params = {
            "zone": listing.zone,
            "list": listing.list_name,
            "meaning": listing.meaning,
            "codes": listing.codes,
            "lookup": listing.lookup,
        }
        if listing.kind == "address":
            params["ip"] = listing.subject
            findings.append(
                Finding("email.send.address_listed", f"{listing.subject} in {listing.zone}", evidence, params)
            )
        else:
            params["domain"] = listing.subject
            findings.append(Finding("email.send.link_listed", f"{listing.subject} in {listing.zone}", evidence, params))
    unchecked: dict[str, list[Any]] = {}
    for listing in [*result.of("refused"), *result.of("unchecked")]:
        unchecked.setdefault(listing.zone, []).append(listing)
    for zone, listings in unchecked.items():
        addresses = [item.subject for item in listings if item.kind == "address"]
        domains = [item.subject for item in listings if item.kind == "domain"]
        what = " and ".join(
            part
            for part in (
                f"the sending address {addresses[0]}" if addresses else "",
                (f"{len(domains)} linked domain" + ("s" if len(domains) > 1 else "")) if domains else "",
            )
            if part
        )
        evidence = {
            "zone": zone,
            "reason": listings[0].meaning,
            "codes": listings[0].codes,
            "names": addresses + domains,
        }
        params = {"zone": zone, "list": listings[0].list_name, "what": what, "reason": listings[0].meaning}
        params["lookup"] = listings[0].lookup
        findings.append(Finding("email.send.blocklist_unchecked", zone, evidence, params))
    return findings


def _summary(verdict: MessageVerdict) -> list[Finding]:
    if verdict.dmarc is None or verdict.dmarc.result != "pass":
        return []
    dmarc = verdict.dmarc
    params = {
        "domain": verdict.headers.from_domain,
        "how": " and ".join(
            part
            for part, ok in (
                (f"SPF ({verdict.spf_domain})", dmarc.spf_aligned),
                (f"DKIM (d={dmarc.aligned_dkim_domain})", dmarc.dkim_aligned),
            )
            if ok
        ),
        "policy": dmarc.policy or "none",
    }
    return [Finding("email.send.authenticated", verdict.headers.from_domain, dict(dmarc.__dict__), params)]


# --- The verdict ------------------------------------------------------------------------------------------


async def message_verdict(
    net: Net, raw: bytes, envelope: Envelope, *, blocklists: Blocklists | None = None
) -> MessageVerdict:
    """Judge one message as received: every check, every finding. Never raises on what the message contains.
    The blocklist zones are the configured ones (LAUNCHREADY_DNSBL_ZONES, LAUNCHREADY_URIBL_ZONES) unless given."""
    headers = read_headers(raw, envelope.received)
    zones = blocklists if blocklists is not None else settings.LAUNCHREADY_BLOCKLISTS
    (spf, spf_domain, helo_spf), (signatures, dkim_problem), reverse, arc, listed = await asyncio.gather(
        _spf(net, envelope),
        verify_signatures(net, raw),
        _reverse_dns(net, envelope.peer),
        verify_arc(net, raw),
        check_blocklists(net, raw, envelope.peer, zones),
    )
    verdict = MessageVerdict(
        headers=headers,
        spf=spf,
        spf_domain=spf_domain,
        helo_spf=helo_spf,
        dkim=signatures,
        dkim_problem=dkim_problem,
        dmarc=None,
        reverse_dns=reverse,
        tls_version=envelope.tls_version,
        arc=arc,
        blocklists=listed,
    )
    if headers.from_domain:
        verdict.dmarc, _ = await _dmarc(net, headers.from_domain, spf, spf_domain, signatures)
    verdict.findings = [
        *_spf_findings(verdict, envelope),
        *_dkim_findings(verdict),
        *_dmarc_findings(verdict),
        *_server_findings(verdict, envelope),
        *_header_findings(verdict),
        *_arc_findings(verdict),
        *_blocklist_findings(verdict),
        *_summary(verdict),
    ]
    return verdict
