"""DMARC aggregate reports kept for a client: each report once (by reporter and report id), its records summed
per reporting organisation, source address and day. A report for a domain that is not the client's is ignored.
Reports and their sources older than DMARC_REPORT_RETENTION_DAYS are deleted."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.timezone import now

from audits.inbound.dmarc_reports import AggregateReport, reports_in
from audits.inbound.text import clean
from audits.models import DmarcReport, DmarcSource, MailAddress, ReceivedMessage
from launchready.crypto import DecryptionError
from launchready.models import Client, Domain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pruned:
    reports: int
    sources: int
    emails: int


def dmarc_reports_prune(retention_days: int) -> Pruned:
    """Delete the reports that began, and the sources' days, more than `retention_days` ago, with the report
    emails received before then (their content is wiped long before; a real send's verdict is not touched)."""
    cutoff = now() - timedelta(days=retention_days)
    reports = DmarcReport.objects.filter(begin__lt=cutoff).delete()[0]
    sources = DmarcSource.objects.filter(day__lt=cutoff.date()).delete()[0]
    emails = (
        ReceivedMessage.objects.filter(address__kind=MailAddress.Kind.DMARC_REPORTS, received__lt=cutoff)
        .exclude(id__in=DmarcReport.objects.filter(message__isnull=False).values("message_id"))
        .delete()[0]
    )
    return Pruned(reports, sources, emails)


@dataclass
class _Counts:
    messages: int = 0
    spf_pass: int = 0
    dkim_pass: int = 0
    dmarc_pass: int = 0


@dataclass
class Kept:
    """What one report email gave: the reports kept, the ones already kept, the ones ignored, and the problems."""

    kept: list[DmarcReport] = field(default_factory=list)
    duplicates: int = 0
    ignored: int = 0
    problems: list[str] = field(default_factory=list)


def is_clients_domain(domain: str, names: list[str]) -> bool:
    """The report's policy domain is one of the client's domains or a name under one."""
    domain = domain.lower().rstrip(".")
    return any(domain == name or domain.endswith(f".{name}") for name in names)


def _by_source(report: AggregateReport) -> dict[str, _Counts]:
    counts: dict[str, _Counts] = defaultdict(_Counts)
    for record in report.records:
        row = counts[record.source_ip]
        row.messages += record.count
        row.spf_pass += record.count if record.spf == "pass" else 0
        row.dkim_pass += record.count if record.dkim == "pass" else 0
        row.dmarc_pass += record.count if record.passed else 0
    return counts


def _add(client: Client, org_name: str, day: date, source_ip: str, counts: _Counts) -> None:
    """Add one source's counts to its row for that reporter and day, making the row when it is the first."""
    key = {"client": client, "org_name": org_name, "day": day, "source_ip": source_ip}
    sums = {
        "messages": F("messages") + counts.messages,
        "spf_pass": F("spf_pass") + counts.spf_pass,
        "dkim_pass": F("dkim_pass") + counts.dkim_pass,
        "dmarc_pass": F("dmarc_pass") + counts.dmarc_pass,
    }
    if DmarcSource.objects.filter(**key).update(**sums):
        return
    try:
        with transaction.atomic():
            DmarcSource.objects.create(**key, **counts.__dict__)
    except IntegrityError:  # another report of the same reporter and day made the row meanwhile
        DmarcSource.objects.filter(**key).update(**sums)


def dmarc_report_record(
    *, client: Client, report: AggregateReport, message: ReceivedMessage | None = None
) -> DmarcReport | None:
    """Keep one parsed report for the client; None when it is for another domain (one log line) or was kept
    before (the same reporter's same report id)."""
    names = list(Domain.objects.filter(client=client).values_list("name", flat=True))
    return _keep(client, report, message) if _for_client(client, names, report) else None


def _for_client(client: Client, names: list[str], report: AggregateReport) -> bool:
    if is_clients_domain(report.domain, names):
        return True
    log.warning(
        "DMARC report ignored: it is for %r, which is not a domain of client %s", report.domain[:100], client.code
    )
    return False


def _keep(client: Client, report: AggregateReport, message: ReceivedMessage | None) -> DmarcReport | None:
    """The report kept with its sources' counts, or None when the same reporter's same report was kept before."""
    report_id = report.report_id or f"(no id) {report.begin.isoformat()}"
    org_name = report.org_name[:255]
    with transaction.atomic():
        try:
            with transaction.atomic():
                kept = DmarcReport.objects.create(
                    client=client,
                    message=message,
                    org_name=org_name,
                    report_id=report_id[:255],
                    domain=report.domain[:253],
                    policy=report.policy[:16],
                    subdomain_policy=report.subdomain_policy[:16],
                    pct=report.pct,
                    begin=report.begin,
                    end=report.end,
                    received=now(),
                    messages=sum(r.count for r in report.records),
                )
        except IntegrityError:
            return None  # received before: its counts are in already
        day = report.begin.date()
        for source_ip, counts in _by_source(report).items():
            _add(client, org_name, day, source_ip, counts)
    return kept


def dmarc_message_record(message: ReceivedMessage) -> Kept:
    """Read the reports a message to a client's DMARC mailbox carries and keep each; the message's verdict
    records how many were kept and why any attachment could not be read."""
    address = MailAddress.objects.select_related("client").get(id=message.address_id)
    found = Kept()
    try:
        raw = message.raw
    except DecryptionError:
        log.error("received message %s cannot be decrypted with the configured keys", message.code)
        raw = b""
    reports, problems = reports_in(raw) if raw else ([], ["the message was wiped before it was read"])
    for problem in problems:
        log.info("DMARC report email %s: an attachment was not read (%s)", message.code, clean(problem, 200))
    found.problems = problems
    client = address.client
    names = list(Domain.objects.filter(client=client).values_list("name", flat=True))
    for report in reports:
        if not _for_client(client, names, report):
            found.ignored += 1
        elif (kept := _keep(client, report, message)) is not None:
            found.kept.append(kept)
        else:
            found.duplicates += 1
    message.state = ReceivedMessage.State.VERIFIED if reports else ReceivedMessage.State.FAILED
    message.verdict = {
        "reports": len(found.kept),
        "duplicates": found.duplicates,
        "ignored": found.ignored,
        "problems": [clean(p, 300) for p in problems],
    }
    message.verified = now()
    message.save(update_fields=["state", "verdict", "verified"])
    return found
