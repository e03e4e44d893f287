"""The demo's DMARC reports: three weeks of daily aggregate reports for Brightpath from two mailbox providers,
kept as the receiver keeps them, so that "who sends as you" lists its senders at once: Google Workspace and
Postmark passing (Postmark failing DKIM one day, which restarts the clean days), a SendGrid account left over
from an old newsletter tool, a server claiming a Google name and one with no reverse DNS, both failing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from audits.inbound.dmarc_reports import parse_report
from audits.inbound.dmarc_store import dmarc_report_record
from launchready.models import Client
from launchready.sandbox.dmarc_reports import REPORT_SOURCES, Source, aggregate_xml

DAYS = 21
DKIM_BROKE_DAYS_AGO = 9
REPORTERS = {"google.com": 1.0, "Yahoo": 0.25}


def _sources(days_ago: int, share: float) -> list[Source]:
    def n(count: int) -> int:
        return max(1, round(count * share))

    ip = {key: source.ip for key, source in REPORT_SOURCES.items()}
    postmark_dkim = "fail" if days_ago == DKIM_BROKE_DAYS_AGO else "pass"
    rows = [
        Source(ip["google"], n(40 + days_ago % 7 * 3)),
        Source(ip["postmark"], n(120 + days_ago % 5 * 11), dkim=postmark_dkim, spf="fail"),
        Source(ip["sendgrid"], n(6), dkim="fail", spf="fail"),
    ]
    if days_ago % 3 == 0:
        rows.append(Source(ip["lookalike"], n(4), dkim="fail", spf="fail"))
    if days_ago % 4 == 1:
        rows.append(Source(ip["unknown"], n(2), dkim="fail", spf="fail"))
    return rows


def seed_dmarc_reports(client: Client, now: datetime | None = None) -> int:
    """Keep the demo's reports for the client's first domain; the sandbox command has the worker name their
    sources once its DNS answers."""
    now = now or timezone.now()
    domain = client.domains.order_by("id").values_list("name", flat=True).first()
    if domain is None:
        return 0
    kept = 0
    for days_ago in range(DAYS, 0, -1):
        day = (now - timedelta(days=days_ago)).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        for org, share in REPORTERS.items():
            xml = aggregate_xml(
                domain, _sources(days_ago, share), org=org, report_id=f"{org}-{day.date()}", begin=int(day.timestamp())
            )
            kept += dmarc_report_record(client=client, report=parse_report(xml)) is not None
    return kept
