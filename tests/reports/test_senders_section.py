"""The weekly report's "who sends as you": only when DMARC reports covered the week, with the failing senders
and what to fix, in the email's HTML and text; another client's reports never enter it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from audits.inbound.dmarc_reports import parse_report
from audits.inbound.dmarc_store import dmarc_report_record
from launchready.models import Client
from launchready.sandbox.dmarc_reports import Source, aggregate_xml
from reports.mail import render
from reports.weekly import build_report
from reports.weeks import period_for
from tests.conftest import Tenant
from tests.reports.report_data import WEEK

pytestmark = pytest.mark.django_db

HOSTILE = '<b onmouseover="alert(1)">Evil & Co</b>'


def _report(client: Client, domain: str, day: datetime, sources: list[Source], org: str = "google.com") -> None:
    xml = aggregate_xml(domain, sources, org=org, report_id=f"{org}-{day.date()}", begin=int(day.timestamp()))
    assert dmarc_report_record(client=client, report=parse_report(xml)) is not None


def _week_day(tenant: Tenant) -> tuple[datetime, datetime]:
    period = period_for(tenant.client, WEEK)
    return period.start + timedelta(days=2, hours=12), period.end + timedelta(hours=9)


def test_a_week_without_dmarc_reports_has_no_such_section(tenant: Tenant) -> None:
    day, now = _week_day(tenant)
    _report(tenant.client, tenant.domain.name, day - timedelta(days=14), [Source("192.0.2.1", 5)])  # another week
    data = build_report(tenant.client, WEEK, now=now)
    assert data["senders"] is None
    rendered = render(data)
    assert "Who sends as you" not in rendered.html and "WHO SENDS AS YOU" not in rendered.text


def test_the_weeks_senders_are_in_the_email_with_what_to_fix(tenant: Tenant, other_tenant: Tenant) -> None:
    day, now = _week_day(tenant)
    sources = [Source("192.0.2.1", 90), Source("192.0.2.66", 10, dkim="fail", spf="fail")]
    _report(tenant.client, tenant.domain.name, day, sources, org=HOSTILE)
    _report(other_tenant.client, other_tenant.domain.name, day, [Source("198.51.100.7", 1000)])
    data = build_report(tenant.client, WEEK, now=now)
    senders = data["senders"]
    assert (senders["messages"], senders["sources"], senders["dmarc_rate"], senders["failing_count"]) == (100, 2, 90, 1)
    assert senders["failing"][0]["ip"] == "192.0.2.66"
    assert "someone else is sending as you" in senders["failing"][0]["advice"]
    assert senders["policy_advice"].startswith("1 clean day in a row so far")
    rendered = render(data)
    assert "Who sends as you" in rendered.html and "90% passed DMARC" in rendered.html
    assert "WHO SENDS AS YOU" in rendered.text and "* Failing: Not looked up yet (192.0.2.66)" in rendered.text
    assert "198.51.100.7" not in repr(data) + rendered.html + rendered.text


def test_after_30_clean_days_the_email_gives_the_record_for_the_next_step(tenant: Tenant) -> None:
    from audits.inbound.addresses import address_text, dmarc_address_for

    rua = address_text(dmarc_address_for(tenant.client), "mail.launchready.test")
    day, now = _week_day(tenant)
    for days_ago in range(35):
        when = day - timedelta(days=days_ago)
        xml = aggregate_xml(
            tenant.domain.name,
            [Source("192.0.2.1", 50)],
            report_id=f"q-{when.date()}",
            begin=int(when.timestamp()),
            policy="quarantine",
        )
        assert dmarc_report_record(client=tenant.client, report=parse_report(xml)) is not None
    data = build_report(tenant.client, WEEK, now=now)
    record = f"v=DMARC1; p=reject; rua=mailto:{rua}"
    assert "Move from p=quarantine to p=reject" in data["senders"]["policy_advice"]
    assert data["senders"]["next_records"] == [{"name": f"_dmarc.{tenant.domain.name}", "record": record}]
    rendered = render(data)
    assert f'_dmarc.{tenant.domain.name} TXT "{record}"' in rendered.text
    assert f'>_dmarc.{tenant.domain.name} TXT "{record}"</p>' in rendered.html  # quotes in text stay as they are
