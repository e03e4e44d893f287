"""Email authentication checks: MX, SPF (RFC 7208), DKIM (RFC 6376), DMARC (RFC 9989), MTA-STS, TLS-RPT.
Each finding proposes the exact record to publish."""

from __future__ import annotations

import asyncio

from audits.checks.declaration import Check
from audits.email import dkim, dmarc, spf
from audits.findings import Finding, Severity
from audits.target import AuditTarget
from launchready.net import Net

PROBE_IP = "192.0.2.254"  # TEST-NET-1: listed by nobody
# Providers that host mailboxes: with one of these the domain receives mail, so MX matters.
MAILBOX_PROVIDERS = {"google", "microsoft", "zoho", "fastmail"}
PROVIDER_NAMES = {
    "google": "Google Workspace",
    "microsoft": "Microsoft 365",
    "sendgrid": "SendGrid",
    "mailgun": "Mailgun",
    "postmark": "Postmark",
    "ses": "Amazon SES",
    "resend": "Resend",
    "mailchimp": "Mailchimp",
    "brevo": "Brevo",
    "zoho": "Zoho Mail",
    "fastmail": "Fastmail",
    "hubspot": "HubSpot",
}
MX_EXAMPLE = {"google": "1 smtp.google.com.", "microsoft": "0 <tenant>.mail.protection.outlook.com."}


def suggested_spf(providers: list[str], current: list[str] | None = None, drop: set[str] | None = None) -> str:
    """One SPF record: the current terms (less broken ones and any all), plus each provider's include."""
    terms: list[str] = []
    for record in current or []:
        for term in record.split()[1:]:
            bare = term.lstrip("+-~?").lower()
            if bare == "all" or bare.startswith(("redirect=", "exp=")) or term in (drop or set()):
                continue
            if term not in terms:
                terms.append(term)
    for provider in providers:
        for include in spf.PROVIDER_INCLUDES.get(provider, [])[:1]:
            if f"include:{include}" not in terms:
                terms.append(f"include:{include}")
    return " ".join(["v=spf1", *terms, "~all"])


async def check_email(target: AuditTarget, net: Net) -> list[Finding]:
    domain = target.apex
    selectors = dkim.selectors_for(target.mail_providers, target.dkim_selectors)
    (mx, analysis, probe, discovery, keys), (sts, tlsrpt) = await asyncio.gather(
        asyncio.gather(
            net.dns(domain, "MX"),
            spf.analyse(net, domain),
            # An address that no record lists walks every term, as a receiver would for a forger: it
            # counts the void lookups of a:, mx: and exists: terms that a static read cannot.
            spf.check_host(net, PROBE_IP, domain, f"postmaster@{domain}"),
            dmarc.discover(net, domain),
            dkim.lookup_selectors(net, domain, selectors),
        ),
        asyncio.gather(net.dns(f"_mta-sts.{domain}", "TXT"), net.dns(f"_smtp._tls.{domain}", "TXT")),
    )
    findings: list[Finding] = []
    receives = bool(MAILBOX_PROVIDERS & set(target.mail_providers))
    if mx.is_void:
        provider = next((p for p in target.mail_providers if p in MX_EXAMPLE), "google")
        findings.append(
            Finding(
                "email.mx.missing",
                domain,
                {"MX": mx.status.value},
                {"domain": domain, "mx": MX_EXAMPLE[provider]},
                Severity.HIGH if receives else Severity.LOW,
            )
        )
    sending = bool(target.mail_providers) or mx.ok
    findings += spf_findings(target, analysis, sending, probe)
    findings += await dmarc_findings(net, domain, discovery, rua=target.dmarc_rua)
    findings += dkim_findings(target, keys)
    if not any(v.startswith("v=STSv1") for v in sts.values) and not sts.is_failure:
        findings.append(Finding("email.mta_sts.missing", domain, {}, {"domain": domain}))
    if not any(v.startswith("v=TLSRPTv1") for v in tlsrpt.values) and not tlsrpt.is_failure:
        findings.append(Finding("email.tls_rpt.missing", domain, {}, {"domain": domain}))
    return findings


def spf_findings(
    target: AuditTarget, analysis: spf.SpfAnalysis, sending: bool, probe: spf.SpfResult | None = None
) -> list[Finding]:
    domain = target.apex
    evidence = {
        "records": analysis.records,
        "lookups": analysis.dns_lookups,
        "void": analysis.void_lookups,
        "includes": analysis.includes,
    }
    suggestion = suggested_spf(target.mail_providers, analysis.records, {e.term for e in analysis.syntax_errors})
    params = {"domain": domain, "record": suggestion}
    if analysis.status == "dns_error":
        failure = analysis.dns_failures[0] if analysis.dns_failures else None
        return [
            Finding(
                "email.spf.dns_failure",
                domain,
                evidence | {"failures": [str(f) for f in analysis.dns_failures]},
                params
                | {"status": failure.status if failure else "error", "name": failure.name if failure else domain},
            )
        ]
    if analysis.status == "missing":
        return [Finding("email.spf.missing", domain, evidence, params, None if sending else Severity.HIGH)]
    if analysis.status == "multiple":
        return [Finding("email.spf.multiple", domain, evidence, params | {"count": len(analysis.records)})]
    findings: list[Finding] = []
    if analysis.status == "syntax_error" or analysis.syntax_errors:
        error = analysis.syntax_errors[0] if analysis.syntax_errors else None
        problem = f"“{error.term}”: {error.reason}" if error else "the record cannot be parsed"
        findings.append(Finding("email.spf.syntax", domain, evidence, params | {"problem": problem}))
    if analysis.dns_lookups > 10:
        findings.append(
            Finding(
                "email.spf.too_many_lookups",
                domain,
                evidence,
                params | {"count": analysis.dns_lookups, "includes": analysis.includes or ["none"]},
            )
        )
    voids = max(analysis.void_lookups, probe.void_lookups if probe else 0)
    if voids > 2:
        detail = probe.problem if probe and probe.void_lookups > 2 else "; ".join(analysis.problems)
        findings.append(
            Finding(
                "email.spf.too_many_void",
                domain,
                evidence | {"probe": detail},
                params | {"count": voids, "names": detail or "see the evidence"},
            )
        )
    if analysis.all_qualifier in ("+", "?"):
        shown = "+all" if analysis.all_qualifier == "+" else "?all"
        findings.append(Finding("email.spf.permissive_all", domain, evidence, params | {"all": shown}))
    for provider in spf.unauthorised_providers(analysis, target.mail_providers):
        findings.append(
            Finding(
                "email.spf.provider_missing",
                f"{domain}#{provider}",
                evidence,
                params | {"provider": PROVIDER_NAMES.get(provider, provider)},
            )
        )
    return findings


async def dmarc_findings(net: Net, domain: str, discovery: dmarc.DmarcDiscovery, *, rua: str = "") -> list[Finding]:
    """`rua`: the report address to propose (the product's mailbox for the client), else one at the domain."""
    rua = rua or f"mailto:dmarc-reports@{domain}"
    first_step = dmarc.suggested_record(domain, "none", rua=rua)
    evidence = {
        "queried": discovery.queried,
        "found_at": discovery.found_at,
        "record": discovery.record.text if discovery.record else None,
    }
    params = {"domain": domain, "record": first_step}
    if discovery.status == dmarc.DiscoveryStatus.DNS_FAILURE:
        step = discovery.failures[0] if discovery.failures else None
        return [
            Finding(
                "email.dmarc.dns_failure",
                domain,
                evidence,
                params | {"status": step.dns_status.value if step else "error", "name": step.query if step else ""},
            )
        ]
    if discovery.status == dmarc.DiscoveryStatus.SEVERAL:
        return [Finding("email.dmarc.multiple", domain, evidence | {"at": discovery.several_at}, params)]
    if discovery.status == dmarc.DiscoveryStatus.NOT_FOUND or discovery.record is None:
        return [Finding("email.dmarc.missing", domain, evidence, params)]
    record = discovery.record
    findings: list[Finding] = []
    if discovery.psl_disagrees:
        findings.append(
            Finding(
                "email.dmarc.psl_disagrees",
                domain,
                evidence | {"detail": discovery.disagreement},
                {
                    "domain": domain,
                    "tree_walk": discovery.organizational_domain,
                    "psl": discovery.psl_organizational_domain or "none",
                },
            )
        )
    if record.errors:
        problem = "; ".join(p.message for p in record.errors)
        fixed = dmarc.suggested_record(domain, "none", rua=rua)
        return [
            *findings,
            Finding("email.dmarc.syntax", domain, evidence, params | {"problem": problem, "record": fixed}),
        ]
    codes = set(record.codes)
    next_step = dmarc.next_step_record(domain, record)
    if dmarc.Code.POLICY_NONE_NO_REPORTS in codes:
        findings.append(Finding("email.dmarc.none_no_reports", domain, evidence, params))
    elif record.policy == "none":
        findings.append(Finding("email.dmarc.none_with_reports", domain, evidence, params | {"record": next_step}))
    if record.removed_tags:
        cleaned = "; ".join(
            t for t in record.text.split(";") if t.strip().split("=")[0].strip() not in record.removed_tags
        )
        findings.append(
            Finding(
                "email.dmarc.removed_tags",
                domain,
                evidence,
                params | {"tags": record.removed_tags, "record": cleaned.strip().rstrip(";")},
            )
        )
    external = [uri for uri in record.rua if uri.valid and dmarc.needs_authorisation(domain, uri)]
    verdicts = await asyncio.gather(*(dmarc.external_rua_authorised(net, domain, uri) for uri in external))
    for uri, authorised in zip(external, verdicts, strict=True):
        if authorised is False:
            auth_name = dmarc.authorisation_record(domain, uri).split(" ", 1)[0].rstrip(".")
            findings.append(
                Finding(
                    "email.dmarc.rua_unauthorised",
                    f"{domain}#{uri.host}",
                    evidence | {"rua": uri.raw},
                    {"domain": domain, "rua_domain": uri.host, "auth_name": auth_name},
                )
            )
    return findings


def dkim_findings(target: AuditTarget, lookups: list[dkim.DkimLookup]) -> list[Finding]:
    domain = target.apex
    tried = [lookup.selector for lookup in lookups]
    found = [lookup for lookup in lookups if lookup.status == dkim.LookupStatus.FOUND and lookup.key is not None]
    provider = PROVIDER_NAMES.get(next(iter(target.mail_providers), ""), "your email provider")
    if not found:
        failed = [lookup for lookup in lookups if lookup.status == dkim.LookupStatus.DNS_FAILURE]
        if failed:  # unknown, not absent: never silently clean
            return [
                Finding(
                    "email.dkim.dns_failure",
                    domain,
                    {"failed": {lookup.name: lookup.dns_status.value for lookup in failed}, "selectors_tried": tried},
                    {
                        "domain": domain,
                        "names": [lookup.name for lookup in failed],
                        "status": failed[0].dns_status.value,
                    },
                )
            ]
        return [
            Finding(
                "email.dkim.missing",
                domain,
                {"selectors_tried": tried},
                {"domain": domain, "selectors": tried, "provider": provider},
            )
        ]
    findings: list[Finding] = []
    for lookup in found:
        key = lookup.key
        assert key is not None  # noqa: S101 - filtered above, narrows the type  # nosec B101
        codes = set(key.codes)
        params = {"domain": domain, "selector": lookup.selector, "bits": key.key_bits}
        evidence = {
            "record": lookup.records[0][:200] if lookup.records else "",
            "bits": key.key_bits,
            "selectors_tried": tried,
        }
        name = f"{lookup.selector}._domainkey.{domain}"  # the selector's record: what the finding is about
        if dkim.Code.REVOKED in codes:
            findings.append(Finding("email.dkim.revoked", name, evidence, params, host=name))
            continue
        errors = [p for p in key.errors if p.code != dkim.Code.KEY_TOO_SHORT]
        if errors:
            findings.append(
                Finding("email.dkim.invalid", name, evidence, params | {"problem": errors[0].message}, host=name)
            )
            continue
        if dkim.Code.KEY_TOO_SHORT in codes:
            findings.append(Finding("email.dkim.weak_key", name, evidence, params, host=name))
        elif dkim.Code.WEAK_KEY in codes and key.key_bits and key.key_bits <= 1024:
            findings.append(Finding("email.dkim.key_1024", name, evidence, params, host=name))
        if dkim.Code.TESTING in codes:
            findings.append(Finding("email.dkim.testing", name, evidence, params, host=name))
        if dkim.Code.SHA1_ONLY in codes:
            findings.append(Finding("email.dkim.sha1", name, evidence, params, host=name))
    return findings


CHECKS = (
    Check(
        "email",
        check_email,
        frozenset(
            {
                "email.mx.missing",
                "email.mta_sts.missing",
                "email.tls_rpt.missing",
                "email.spf.missing",
                "email.spf.multiple",
                "email.spf.syntax",
                "email.spf.too_many_lookups",
                "email.spf.too_many_void",
                "email.spf.permissive_all",
                "email.spf.provider_missing",
                "email.spf.dns_failure",
                "email.dkim.missing",
                "email.dkim.revoked",
                "email.dkim.testing",
                "email.dkim.weak_key",
                "email.dkim.key_1024",
                "email.dkim.sha1",
                "email.dkim.invalid",
                "email.dkim.dns_failure",
                "email.dmarc.missing",
                "email.dmarc.multiple",
                "email.dmarc.syntax",
                "email.dmarc.none_no_reports",
                "email.dmarc.none_with_reports",
                "email.dmarc.rua_unauthorised",
                "email.dmarc.removed_tags",
                "email.dmarc.psl_disagrees",
                "email.dmarc.dns_failure",
            }
        ),
    ),
)
