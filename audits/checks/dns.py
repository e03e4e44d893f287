"""Domain and DNS checks: hosts resolve, dangling CNAMEs, nameservers, CAA, TTLs, IPv6 and DNSSEC."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from audits.catalog import render, severity_of
from audits.checks.declaration import Check
from audits.email import dkim
from audits.findings import Finding, Severity
from audits.target import CRITICAL_LABELS, AuditTarget
from launchready.net import DnsAnswer, DnsRecord, DnsStatus, Net

FINGERPRINTS = Path(__file__).resolve().parent.parent / "data" / "takeover_fingerprints.json"
LONG_TTL = 3600
INVENTORY_TYPES = ["A", "AAAA", "CNAME", "MX", "TXT", "NS", "CAA"]
DMARC_TYPES = ["TXT", "CNAME"]  # what a _dmarc name holds (a policy, or an alias to a provider's)


@dataclass(frozen=True)
class Fingerprint:
    service: str
    cnames: tuple[str, ...]
    body: str
    nxdomain: bool


@cache
def fingerprints() -> list[Fingerprint]:
    entries = json.loads(FINGERPRINTS.read_text())
    return [
        Fingerprint(e["service"], tuple(c.lower() for c in e["cname"]), e.get("fingerprint") or "", bool(e["nxdomain"]))
        for e in entries
        if e.get("vulnerable") and e.get("cname")
    ]


def matching_fingerprint(target: str) -> Fingerprint | None:
    target = target.lower().rstrip(".")
    for fp in fingerprints():
        if any(target == c or target.endswith("." + c) for c in fp.cnames):
            return fp
    return None


def _label_of(target: AuditTarget, host: str) -> str:
    return "" if host == target.apex else host[: -len(target.apex) - 1]


async def check_domain(target: AuditTarget, net: Net) -> Finding | None:
    """The diagnosis that explains everything else, when there is one: the domain does not exist, or its
    nameservers answer nobody. (When the parent zone fails too, the trouble is on the audit's side: the
    other checks then say what they could not check.)"""
    ns, soa = await asyncio.gather(net.dns(target.apex, "NS"), net.dns(target.apex, "SOA"))
    if ns.status == DnsStatus.NXDOMAIN:
        return Finding("dns.domain.missing", target.apex, {"NS": ns.status.value}, {"domain": target.apex})
    if not (ns.is_failure and soa.is_failure):
        return None
    parent = target.apex.split(".", 1)[1]
    control = await net.dns(parent, "NS")
    if control.is_failure:
        return None
    return Finding(
        "dns.domain.unreachable",
        target.apex,
        {"NS": ns.status.value, "SOA": soa.status.value, "error": ns.error, f"{parent} NS": control.status.value},
        {"domain": target.apex, "status": ns.status.value},
    )


def fold_under(diagnosis: Finding, findings: list[Finding]) -> Finding:
    """The diagnosis with the findings it explains folded under it: one entry on the risk list, its
    consequences listed in its evidence."""
    consequences = list(dict.fromkeys(render(f)["title"] for f in sorted(findings, key=lambda f: severity_of(f).rank)))
    folded = (
        f"The audit's {len(consequences)} other finding{'s' if len(consequences) != 1 else ''} follow from this "
        "and are listed under it."
        if consequences
        else ""
    )
    return replace(
        diagnosis,
        evidence={**diagnosis.evidence, "consequences": consequences},
        params={**diagnosis.params, "folded": folded},
    )


async def check_hosts(target: AuditTarget, net: Net) -> list[Finding]:
    """Each host resolves (or the failure is named), no dangling CNAME, no CNAME loop, IPv6 noted. The domain's
    own nameserver question failing is a lookup failure of its apex too (the answer is shared with the
    nameserver check, which then has nothing to add)."""
    results, ns = await asyncio.gather(
        asyncio.gather(*(_check_host(target, net, host) for host in target.hosts)), net.dns(target.apex, "NS")
    )
    return [finding for findings in results for finding in findings] + _nameservers_failed(target, ns)


def _nameservers_failed(target: AuditTarget, ns: DnsAnswer) -> list[Finding]:
    if not ns.is_failure:
        return []
    return [
        Finding(
            "dns.host.failure",
            target.apex,
            {"NS": str(ns.status)},
            {"host": target.apex, "status": ns.status.value},
            host=target.apex,
        )
    ]


async def _check_host(target: AuditTarget, net: Net, host: str) -> list[Finding]:
    label = _label_of(target, host)
    critical = label in CRITICAL_LABELS or host == target.canonical_name
    is_other_of_apex_and_www = host == target.other_name
    # The CNAME question is asked beside A/AAAA: a dangling alias answers NXDOMAIN to those, and
    # the resolver then drops the alias it followed.
    (addresses, a, aaaa), cname = await asyncio.gather(net.addresses(host), net.dns(host, "CNAME"))
    findings: list[Finding] = []
    chain = [r.value for r in (a.cnames or aaaa.cnames)] or cname.values
    if chain:
        fp = matching_fingerprint(chain[-1])
        if fp is not None:
            dangling = fp.nxdomain and a.status == DnsStatus.NXDOMAIN
            if not dangling and not fp.nxdomain and fp.body and addresses:
                page = await net.page(f"http://{host}/", follow_redirects=False)
                dangling = fp.body in page.text
            if dangling:
                return [
                    Finding(
                        "dns.cname.dangling",
                        host,
                        {"cname_chain": [host, *chain]},
                        {"host": host, "target": chain[-1], "service": fp.service},
                        host=host,
                    )
                ]
    if addresses:
        refused = [(ip, net.refusal(ip)) for ip in addresses if net.refusal(ip)]
        if refused:
            ip, reason = refused[0]
            findings.append(
                Finding(
                    "dns.host.refused",
                    host,
                    {"addresses": addresses},
                    {"host": host, "address": ip, "reason": reason},
                    host=host,
                )
            )
        if not aaaa.ok and critical and host == target.canonical_name:
            findings.append(Finding("dns.ipv6.missing", host, {"A": a.values}, {"host": host}, host=host))
        return findings
    if _is_cname_loop(a):
        return [Finding("dns.cname.loop", host, {"error": a.error}, {"host": host}, host=host)]
    failed = a if a.is_failure else aaaa if aaaa.is_failure else None
    if failed is not None:
        return [
            Finding(
                "dns.host.failure",
                host,
                {"status": str(failed.status), "error": failed.error},
                {"host": host, "status": failed.status.value},
                severity=Severity.HIGH,
                host=host,
            )
        ]
    if is_other_of_apex_and_www and target.canonical == "apex":
        return []  # www of an apex-canonical domain may simply not exist: nobody is sent there
    reason = "the name does not exist" if a.status == DnsStatus.NXDOMAIN else "it has no address record"
    if chain:
        reason = f"it is an alias (CNAME) for {chain[-1]}, and {reason.replace('the name', 'that name')}"
    severity = Severity.BLOCKER if critical else Severity.HIGH
    return [
        Finding(
            "dns.host.missing",
            host,
            {"A": str(a.status), "AAAA": str(aaaa.status)},
            {
                "host": host,
                "reason": reason,
                "rtype": "CNAME" if label else "A",
                "target": "<your host's name>" if label else "<your host's IP address>",
            },
            severity=severity,
            host=host,
        )
    ]


def _is_cname_loop(answer: DnsAnswer) -> bool:
    if answer.status != DnsStatus.SERVFAIL:
        return False
    names = [c.name for c in answer.cnames]
    return len(names) != len(set(names)) or "loop" in answer.error.lower() or "chain" in answer.error.lower()


async def check_nameservers(target: AuditTarget, net: Net) -> list[Finding]:
    ns = await net.dns(target.apex, "NS")
    servers = sorted(ns.values)
    if not ns.ok:
        return []  # a failing question is the host check's finding on the apex
    findings: list[Finding] = []
    if len(servers) < 2:
        findings.append(Finding("dns.ns.too_few", target.apex, {"NS": servers}, {"domain": target.apex}))
    lookups = await asyncio.gather(*(net.addresses(server) for server in servers))
    broken = [server for server, (addresses, _, _) in zip(servers, lookups, strict=True) if not addresses]
    asked = [(server, addresses[0]) for server, (addresses, _, _) in zip(servers, lookups, strict=True) if addresses]
    answers = await asyncio.gather(*(net.dns_at(address, target.apex, "NS") for _, address in asked))
    refused = [
        f"{server} resolves to {address}, {net.refusal(address)}"
        for (server, address), answer in zip(asked, answers, strict=True)
        if answer.status == DnsStatus.REFUSED
    ]
    if refused:
        findings.append(_refused_nameservers(target, servers, refused, everyone_refused=len(refused) == len(servers)))
    silent = [
        f"{server} ({answer.status.value})"
        for (server, _), answer in zip(asked, answers, strict=True)
        if not answer.ok and answer.status != DnsStatus.REFUSED
    ]
    views = {tuple(sorted(answer.values)) for answer in answers if answer.ok}
    problems = []
    if broken:
        problems.append(f"{', '.join(broken)} do not resolve")
    if silent:
        problems.append(f"{', '.join(silent)} do not answer for {target.apex}")
    if len(views) > 1:
        problems.append("they list different nameservers: " + " vs ".join(", ".join(v) for v in sorted(views)))
    if problems:
        evidence = {
            "NS": servers,
            "answers": {s: a.values or a.status.value for (s, _), a in zip(asked, answers, strict=True)},
        }
        findings.append(
            Finding(
                "dns.ns.inconsistent", target.apex, evidence, {"domain": target.apex, "problem": "; ".join(problems)}
            )
        )
    return findings


def _refused_nameservers(
    target: AuditTarget, servers: list[str], refused: list[str], *, everyone_refused: bool
) -> Finding:
    """Nameservers at private or reserved addresses: nobody outside can ask them, and the guard did not."""
    return Finding(
        "dns.ns.refused",
        target.apex,
        {"NS": servers, "refused": refused},
        {"domain": target.apex, "servers": "; ".join(refused)},
        # With one public nameserver left, resolvers fall back to it: serious, not yet a blocker.
        severity=None if everyone_refused else Severity.HIGH,
    )


KNOWN_CAS = {
    "let's encrypt": "letsencrypt.org",
    "google trust services": "pki.goog",
    "digicert": "digicert.com",
    "sectigo": "sectigo.com",
    "zerossl": "sectigo.com",
    "amazon": "amazon.com",
    "globalsign": "globalsign.com",
    "godaddy": "godaddy.com",
    "launch ready sandbox": "sandbox.launchready.test",
}


def ca_domain(issuer_org: str) -> str | None:
    name = issuer_org.lower()
    return next((domain for key, domain in KNOWN_CAS.items() if key in name), None)


async def check_caa(target: AuditTarget, net: Net, issuer_org: str | None) -> list[Finding]:
    caa = await net.dns(target.apex, "CAA")
    ca = ca_domain(issuer_org or "") or "letsencrypt.org"
    if caa.is_failure:
        # Authorities must refuse to issue while CAA cannot be read (RFC 8659): renewals fail too.
        return [
            Finding(
                "dns.caa.dns_failure",
                target.apex,
                {"CAA": caa.status.value, "error": caa.error},
                {"domain": target.apex, "status": caa.status.value},
            )
        ]
    if not caa.ok:
        return [Finding("dns.caa.missing", target.apex, {"CAA": str(caa.status)}, {"domain": target.apex, "ca": ca})]
    allowed = [v.split(" ", 2)[2].strip('"').split(";")[0].strip() for v in caa.values if " issue " in f" {v} "]
    if issuer_org and ca_domain(issuer_org) and allowed and ca not in allowed:
        return [
            Finding(
                "dns.caa.blocks_issuer",
                target.apex,
                {"CAA": caa.values, "issuer": issuer_org},
                {"domain": target.apex, "allowed": allowed, "issuer": issuer_org, "ca": ca},
            )
        ]
    return []


def dkim_key_names(target: AuditTarget) -> list[str]:
    """The DKIM key names to read: those of the selectors the DKIM check tries (the configured ones, the mail
    providers', the common ones), then those real sends were signed with."""
    selectors = dkim.selectors_for(target.mail_providers, target.dkim_selectors)
    names = [f"{selector}._domainkey.{target.apex}" for selector in selectors]
    return list(dict.fromkeys([*names, *target.sent_dkim_keys]))


async def record_inventory(target: AuditTarget, net: Net) -> list[DnsRecord]:
    """Every record of the apex, www and the hosts in use, its DMARC policy and the DKIM keys found, for the
    handover pack and the drift watch's baseline. The DKIM questions are the DKIM check's own (the Net answers
    them once); a selector with no key adds nothing."""
    questions = [(name, rtype) for name in target.hosts for rtype in INVENTORY_TYPES]
    questions += [(f"_dmarc.{target.apex}", rtype) for rtype in DMARC_TYPES]
    questions += [(name, "TXT") for name in dkim_key_names(target)]
    answers = await asyncio.gather(*(net.dns(name, rtype) for name, rtype in questions))
    seen: set[tuple[str, str, str]] = set()
    records: list[DnsRecord] = []
    for answer in answers:
        for record in (*answer.cnames, *answer.records):
            key = (record.name, record.rdtype, record.value)
            if key not in seen:
                seen.add(key)
                records.append(record)
    return records


def check_ttls(target: AuditTarget, inventory: list[DnsRecord], sprint_open: bool) -> list[Finding]:
    long = [r for r in inventory if r.rdtype in ("A", "AAAA", "CNAME") and r.ttl > LONG_TTL]
    if not long or not sprint_open:
        return []
    return [
        Finding(
            "dns.ttl.long",
            target.apex,
            {"records": [f"{r.name} {r.rdtype} ttl={r.ttl}" for r in long]},
            {"records": sorted({r.name for r in long}), "ttl": max(r.ttl for r in long)},
        )
    ]


async def check_dnssec(target: AuditTarget, net: Net) -> list[Finding]:
    dnskey = await net.dns(target.apex, "DNSKEY")
    if dnskey.ok or dnskey.is_failure:
        return []
    return [Finding("dns.dnssec.off", target.apex, {"DNSKEY": str(dnskey.status)}, {"domain": target.apex})]


# What this module provides. The engine runs CHECKS beside each other; it asks the diagnosis first and judges
# the TTLs on the record inventory at the end; CAA is judged after the TLS handshake, by the TLS check.
CHECKS = (
    Check(
        "dns.hosts",
        check_hosts,
        frozenset(
            {
                "dns.host.missing",
                "dns.host.failure",
                "dns.host.refused",
                "dns.cname.dangling",
                "dns.cname.loop",
                "dns.ipv6.missing",
            }
        ),
    ),
    Check("dns.nameservers", check_nameservers, frozenset({"dns.ns.too_few", "dns.ns.inconsistent", "dns.ns.refused"})),
    Check("dns.dnssec", check_dnssec, frozenset({"dns.dnssec.off"})),
)
DIAGNOSIS_IDS = frozenset({"dns.domain.missing", "dns.domain.unreachable"})  # check_domain
TTL_IDS = frozenset({"dns.ttl.long"})  # check_ttls
CAA_IDS = frozenset({"dns.caa.missing", "dns.caa.dns_failure", "dns.caa.blocks_issuer"})  # check_caa
