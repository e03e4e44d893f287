"""DMARC aggregate reports kept per client: mailed (gzip and zip) through the real receiver, stored per reporter,
source address and day, named by reverse DNS through the sandbox, and shown as "who sends as you"; a report for
another domain is ignored with one log line, a duplicate counts once, hostile names stay text."""

from __future__ import annotations

import asyncio
import logging
import random
import smtplib
from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils.timezone import now

from audits.catalog import render
from audits.engine import run_audit
from audits.inbound.addresses import address_text, dmarc_address_for
from audits.inbound.dmarc_reports import parse_report
from audits.inbound.dmarc_store import dmarc_message_record, dmarc_report_record
from audits.inbound.senders import CLEAN_DAYS_NEEDED, senders_for
from audits.inbound.source_hosts import sources_look_up
from audits.inbound.verification import received_message_verify
from audits.models import DmarcReport, DmarcSource, ReceivedMessage
from audits.target import AuditTarget
from launchready.models import Domain
from launchready.sandbox.dmarc_reports import REPORT_SOURCES, Source, aggregate_xml, gzipped, report_email, zipped
from launchready.sandbox.mail_sender import GOOD_IP, SENDER, SENDER_HOST
from launchready.sandbox.runner import Sandbox
from tests.audits.inbound.conftest import MAIL_DOMAIN, Running
from tests.conftest import Tenant, login

GOOGLE, POSTMARK, SENDGRID = (REPORT_SOURCES[k].ip for k in ("google", "postmark", "sendgrid"))
LOOKALIKE, UNKNOWN = REPORT_SOURCES["lookalike"].ip, REPORT_SOURCES["unknown"].ip


def day_start(days_ago: int) -> int:
    moment = (now() - timedelta(days=days_ago)).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(moment.timestamp())


def sources() -> list[Source]:
    return [
        Source(GOOGLE, 120),
        Source(POSTMARK, 40, spf="fail"),  # DKIM carries it
        Source(SENDGRID, 7, dkim="fail", spf="fail"),
        Source(LOOKALIKE, 3, dkim="fail", spf="fail"),
        Source(UNKNOWN, 2, dkim="fail", spf="fail"),
    ]


def mail(port: int, rcpt: str, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, local_hostname=SENDER_HOST, source_address=(GOOD_IP, 0), timeout=20) as smtp:
        smtp.ehlo()
        smtp.mail(f"noreply-dmarc@{SENDER}")
        assert smtp.rcpt(rcpt)[0] == 250
        assert smtp.data(raw)[0] == 250


def test_reports_mailed_gzip_and_zip_show_their_sources_on_the_client_page(
    tenant: Tenant, receiver: Running, world_sandbox: Sandbox
) -> None:
    domain = tenant.domain.name
    rua = address_text(dmarc_address_for(tenant.client), MAIL_DOMAIN)
    xml_a = aggregate_xml(domain, sources(), org="google.com", report_id="g-1", begin=day_start(2))
    xml_b = aggregate_xml(domain, [Source(GOOGLE, 30)], org="Yahoo", report_id="y-1", begin=day_start(1))
    mail(
        receiver.port, rua, report_email(rua, domain, gzipped(xml_a), name="r.xml.gz", content_type="application/gzip")
    )
    mail(receiver.port, rua, report_email(rua, domain, zipped(xml_b), name="r.zip", content_type="application/zip"))
    assert len(receiver.stored) == 2
    for message_id in receiver.stored:
        assert received_message_verify(message_id, config=world_sandbox.net_config()) is not None
        assert ReceivedMessage.objects.get(id=message_id).verdict["reports"] == 1
    assert DmarcReport.objects.filter(client=tenant.client).count() == 2
    google = DmarcSource.objects.get(client=tenant.client, source_ip=GOOGLE, org_name="google.com")
    assert (google.messages, google.dmarc_pass, google.day) == (120, 120, now().date() - timedelta(days=2))
    named = {s.source_ip: s for s in DmarcSource.objects.filter(client=tenant.client)}
    assert (named[GOOGLE].provider, named[GOOGLE].host_confirmed) == ("Google", True)
    assert named[SENDGRID].provider == "SendGrid" and named[POSTMARK].provider == "Postmark"
    assert (named[LOOKALIKE].host, named[LOOKALIKE].host_confirmed, named[LOOKALIKE].provider) == (
        "mail-x.google.com",
        False,
        "",
    )
    assert named[UNKNOWN].host == "" and named[UNKNOWN].looked_up is not None

    html = login(tenant.founder).get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert "Who sends as you" in html
    assert "202 messages from 5 sources" in html
    assert "Google" in html and "SendGrid" in html and GOOGLE in html
    page = login(tenant.consultant).get(reverse("dmarc_senders", args=[tenant.client.code])).content.decode()
    assert "SendGrid sends as you but fails DMARC" in page
    assert "someone else is sending as you: p=quarantine sends their mail to spam, p=reject has it refused." in page
    assert "(name not confirmed)" in page
    assert "Passes through DKIM" not in page  # advice shows only for the failing ones
    assert f"rua=mailto:{rua}" in page


def test_the_same_report_received_twice_counts_once(tenant: Tenant) -> None:
    report = parse_report(aggregate_xml(tenant.domain.name, sources(), report_id="same", begin=day_start(1)))
    assert dmarc_report_record(client=tenant.client, report=report) is not None
    assert dmarc_report_record(client=tenant.client, report=report) is None
    assert DmarcReport.objects.count() == 1
    assert DmarcSource.objects.get(source_ip=GOOGLE).messages == 120
    # Another report of the same reporter for the same day adds to the day's row.
    other = parse_report(aggregate_xml(tenant.domain.name, [Source(GOOGLE, 5)], report_id="later", begin=day_start(1)))
    assert dmarc_report_record(client=tenant.client, report=other) is not None
    assert DmarcSource.objects.get(source_ip=GOOGLE).messages == 125


def test_a_report_email_received_twice_is_read_once(tenant: Tenant, receiver: Running) -> None:
    rua = address_text(dmarc_address_for(tenant.client), MAIL_DOMAIN)
    xml = aggregate_xml(tenant.domain.name, [Source(UNKNOWN, 4)], report_id="twice", begin=day_start(1))
    raw = report_email(rua, tenant.domain.name, gzipped(xml), name="r.xml.gz", content_type="application/gzip")
    mail(receiver.port, rua, raw)
    mail(receiver.port, rua, raw)
    first, second = (ReceivedMessage.objects.get(id=i) for i in receiver.stored)
    assert len(dmarc_message_record(first).kept) == 1
    again = dmarc_message_record(second)
    assert (again.kept, again.duplicates) == ([], 1)
    assert ReceivedMessage.objects.get(id=second.id).verdict["duplicates"] == 1
    assert DmarcSource.objects.get(source_ip=UNKNOWN).messages == 4


def test_a_report_for_a_domain_that_is_not_the_clients_is_ignored_with_one_log_line(
    tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    report = parse_report(aggregate_xml("someone-else.example", sources(), report_id="x"))
    with caplog.at_level(logging.INFO, logger="audits.inbound.dmarc_store"):
        assert dmarc_report_record(client=tenant.client, report=report) is None
    lines = [r.getMessage() for r in caplog.records if r.name == "audits.inbound.dmarc_store"]
    assert lines == [
        f"DMARC report ignored: it is for 'someone-else.example', which is not a domain of client {tenant.client.code}"
    ]
    assert not DmarcReport.objects.exists() and not DmarcSource.objects.exists()
    # A look-alike that only ends with the client's name is not the client's either.
    lookalike = parse_report(aggregate_xml(f"evil{tenant.domain.name}", sources(), report_id="y"))
    assert dmarc_report_record(client=tenant.client, report=lookalike) is None
    # A subdomain's report is the client's.
    sub = parse_report(aggregate_xml(f"news.{tenant.domain.name}", sources(), report_id="z"))
    assert dmarc_report_record(client=tenant.client, report=sub) is not None


def test_hostile_reporter_and_host_names_stay_text(tenant: Tenant, receiver: Running) -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    report = parse_report(aggregate_xml(tenant.domain.name, sources(), org=hostile, report_id=hostile))
    dmarc_report_record(client=tenant.client, report=report)
    DmarcSource.objects.filter(source_ip=LOOKALIKE).update(host=hostile, looked_up=now())
    html = login(tenant.consultant).get(reverse("dmarc_senders", args=[tenant.client.code])).content.decode()
    assert hostile not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img" in html
    assert DmarcReport.objects.get().org_name == hostile


def test_clean_days_are_counted_and_quarantine_is_suggested_after_30(tenant: Tenant) -> None:
    def report(days_ago: int, spoofed: bool = False, failing: bool = False) -> None:
        rows = [Source(GOOGLE, 50, dkim="fail" if failing else "pass", spf="fail" if failing else "pass")]
        rows += [Source(UNKNOWN, 3, dkim="fail", spf="fail")] if spoofed else []
        xml = aggregate_xml(tenant.domain.name, rows, report_id=f"d{days_ago}", begin=day_start(days_ago))
        dmarc_report_record(client=tenant.client, report=parse_report(xml))

    report(5, failing=True)
    for days_ago in range(4, 0, -1):
        report(days_ago, spoofed=True)  # a sender that never passed does not spoil a day
    shown = senders_for(tenant.client)
    assert shown.clean_days == 4 and not shown.ready_for_quarantine
    assert shown.policy_advice.startswith("4 clean days in a row so far, of the 30 to wait")
    for days_ago in range(CLEAN_DAYS_NEEDED + 5, 5, -1):
        report(days_ago)
    shown = senders_for(tenant.client)
    assert shown.clean_days == 4  # the failing day 5 still breaks the run
    DmarcSource.objects.filter(day=now().date() - timedelta(days=5)).update(dmarc_pass=50)
    shown = senders_for(tenant.client)
    assert shown.clean_days >= CLEAN_DAYS_NEEDED and shown.ready_for_quarantine
    assert "Move from p=none to p=quarantine" in shown.policy_advice


def test_source_names_are_looked_up_once_and_reused(tenant: Tenant, world_sandbox: Sandbox) -> None:
    first = parse_report(aggregate_xml(tenant.domain.name, [Source(SENDGRID, 3)], report_id="a", begin=day_start(2)))
    dmarc_report_record(client=tenant.client, report=first)
    assert sources_look_up(tenant.client.id, config=world_sandbox.net_config()) == 1
    second = parse_report(aggregate_xml(tenant.domain.name, [Source(SENDGRID, 2)], report_id="b", begin=day_start(1)))
    dmarc_report_record(client=tenant.client, report=second)
    assert sources_look_up(tenant.client.id, config=world_sandbox.net_config()) == 0  # reused, not asked again
    assert set(DmarcSource.objects.values_list("provider", flat=True)) == {"SendGrid"}


def test_the_page_and_card_need_a_fixed_number_of_queries(tenant: Tenant, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        xml = aggregate_xml(tenant.domain.name, sources(), org=f"org{n}", report_id=f"q{n}", begin=day_start(n + 1))
        dmarc_report_record(client=tenant.client, report=parse_report(xml))
    http = login(tenant.consultant)
    http.get(reverse("dmarc_senders", args=[tenant.client.code]))
    with django_assert_max_num_queries(20):
        assert http.get(reverse("dmarc_senders", args=[tenant.client.code])).status_code == 200


def test_another_tenants_senders_page_is_a_404(tenant: Tenant, other_tenant: Tenant) -> None:
    assert login(other_tenant.consultant).get(reverse("dmarc_senders", args=[tenant.client.code])).status_code == 404
    assert login(other_tenant.founder).get(reverse("dmarc_senders", args=[tenant.client.code])).status_code == 404


def test_a_clients_audit_proposes_the_dmarc_record_naming_its_report_address(
    tenant: Tenant, world_sandbox: Sandbox
) -> None:
    Domain.objects.filter(id=tenant.domain.id).update(name="no-dmarc.test")
    target = AuditTarget.from_domain(Domain.objects.get(id=tenant.domain.id))
    rua = address_text(dmarc_address_for(tenant.client), MAIL_DOMAIN)
    assert target.dmarc_rua == f"mailto:{rua}"
    outcome = asyncio.run(run_audit(target, config=world_sandbox.net_config()))
    finding = next(f for f in outcome.findings if f.check_id == "email.dmarc.missing")
    assert f'TXT "v=DMARC1; p=none; rua=mailto:{rua}"' in render(finding)["fix"]
    page = login(tenant.consultant).get(reverse("dmarc_senders", args=[tenant.client.code])).content.decode()
    assert f"no-dmarc.test._report._dmarc.{MAIL_DOMAIN} TXT &quot;v=DMARC1;&quot;" in page


def clean_reports(tenant: Tenant, days: int, *, policy: str, pct: int | None = None, first: int = 1) -> None:
    """A clean report a day for `days` days up to `first` days ago, at the given published policy."""
    for days_ago in range(first + days - 1, first - 1, -1):
        xml = aggregate_xml(
            tenant.domain.name,
            [Source(GOOGLE, 50), Source(UNKNOWN, 2, dkim="fail", spf="fail")],  # a spoofer never spoils a day
            report_id=f"{policy}-{days_ago}",
            begin=day_start(days_ago),
            policy=policy,
            pct=pct,
        )
        dmarc_report_record(client=tenant.client, report=parse_report(xml))


def test_after_30_clean_days_at_quarantine_reject_is_suggested_with_its_exact_record(tenant: Tenant) -> None:
    rua = address_text(dmarc_address_for(tenant.client), MAIL_DOMAIN)
    clean_reports(tenant, 10, policy="quarantine")
    shown = senders_for(tenant.client)
    assert (shown.policy, shown.clean_days, shown.next_policy, shown.next_records) == ("quarantine", 10, "", [])
    assert shown.policy_advice.startswith("10 clean days in a row so far at p=quarantine, of the 30 to wait before")
    clean_reports(tenant, CLEAN_DAYS_NEEDED - 10, policy="quarantine", first=11)
    shown = senders_for(tenant.client)
    assert shown.clean_days == CLEAN_DAYS_NEEDED and shown.ready_for_reject and not shown.ready_for_quarantine
    assert "Move from p=quarantine to p=reject" in shown.policy_advice
    record = f"v=DMARC1; p=reject; rua=mailto:{rua}"
    assert shown.next_records == [(tenant.domain.name, record)]
    page = login(tenant.consultant).get(reverse("dmarc_senders", args=[tenant.client.code])).content.decode()
    assert "Ready</span>" in page and f"_dmarc.{tenant.domain.name}</span> TXT" in page
    assert f'<pre class="mono">{record}</pre>' in page
    card = login(tenant.founder).get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert "Move from p=quarantine to p=reject" in card and "The record to publish" in card
    # The step before is suggested the same way, with its own record.
    DmarcReport.objects.filter(client=tenant.client).update(policy="none")
    shown = senders_for(tenant.client)
    assert shown.ready_for_quarantine and "Move from p=none to p=quarantine" in shown.policy_advice
    assert shown.next_records == [(tenant.domain.name, f"v=DMARC1; p=quarantine; rua=mailto:{rua}")]
    # At p=reject there is no next step.
    DmarcReport.objects.filter(client=tenant.client).update(policy="reject")
    shown = senders_for(tenant.client)
    assert (shown.next_policy, shown.next_records, shown.policy_advice) == (
        "",
        [],
        "The reporters saw p=reject published.",
    )


def test_a_quarantine_on_part_of_the_mail_goes_to_all_of_it_before_reject(tenant: Tenant) -> None:
    rua = address_text(dmarc_address_for(tenant.client), MAIL_DOMAIN)
    clean_reports(tenant, CLEAN_DAYS_NEEDED, policy="quarantine", pct=25)
    shown = senders_for(tenant.client)
    assert shown.pct == 25 and shown.next_policy == "quarantine" and not shown.ready_for_reject
    assert "The record has pct=25, so receivers that still read it quarantine only 25% of the mail" in (
        shown.policy_advice
    )
    assert "Publish p=quarantine without pct=, for all of the mail, before moving to p=reject." in shown.policy_advice
    assert shown.next_records == [(tenant.domain.name, f"v=DMARC1; p=quarantine; rua=mailto:{rua}")]  # no pct=
    # Before the 30 days, the advice says what pct= does without a record to publish yet.
    DmarcSource.objects.filter(day=now().date() - timedelta(days=3)).update(dmarc_pass=0)
    shown = senders_for(tenant.client)
    assert shown.next_records == [] and "pct=25" in shown.policy_advice


def test_the_next_record_keeps_a_subdomain_policy_that_differs(tenant: Tenant) -> None:
    rua = address_text(dmarc_address_for(tenant.client), MAIL_DOMAIN)
    clean_reports(tenant, CLEAN_DAYS_NEEDED, policy="quarantine")
    DmarcReport.objects.filter(client=tenant.client).update(subdomain_policy="none")
    shown = senders_for(tenant.client)
    assert shown.next_records == [(tenant.domain.name, f"v=DMARC1; p=reject; sp=none; rua=mailto:{rua}")]


def test_where_reports_go_keeps_the_policy_the_reports_saw(tenant: Tenant) -> None:
    rua = address_text(dmarc_address_for(tenant.client), MAIL_DOMAIN)
    page = login(tenant.consultant).get(reverse("dmarc_senders", args=[tenant.client.code])).content.decode()
    assert f"v=DMARC1; p=none; rua=mailto:{rua}" in page  # nothing reported yet: the first step
    clean_reports(tenant, 2, policy="quarantine")
    page = login(tenant.consultant).get(reverse("dmarc_senders", args=[tenant.client.code])).content.decode()
    assert f"v=DMARC1; p=quarantine; rua=mailto:{rua}" in page
    assert f"v=DMARC1; p=none; rua=mailto:{rua}" not in page  # adding the address never weakens the policy


def test_a_sender_whose_dkim_failed_some_days_is_told_to_check_its_signing(tenant: Tenant) -> None:
    for days_ago, dkim in ((3, "pass"), (2, "fail"), (1, "pass")):
        xml = aggregate_xml(
            tenant.domain.name,
            [Source(POSTMARK, 40, dkim=dkim, spf="fail")],
            report_id=f"p{days_ago}",
            begin=day_start(days_ago),
        )
        dmarc_report_record(client=tenant.client, report=parse_report(xml))
    DmarcSource.objects.update(provider="Postmark", host="mta42a.mtasv.net", host_confirmed=True, looked_up=now())
    (postmark,) = senders_for(tenant.client).sources
    assert postmark.failing and (postmark.dkim_rate, postmark.spf_rate) == (66, 0)
    assert postmark.advice.startswith(
        "40 of its 120 messages failed DMARC: on those, DKIM did not pass for your domain (and SPF did not cover "
        "them). Check that every kind of mail Postmark sends for you is DKIM-signed with the key your DNS publishes"
    )


def test_reports_older_than_the_retention_are_pruned_by_the_daily_task(tenant: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    from audits.tasks import prune_dmarc_reports
    from launchready.celery import app

    assert settings.DMARC_REPORT_RETENTION_DAYS == 400
    assert any(e["task"] == "audits.tasks.prune_dmarc_reports" for e in app.conf.beat_schedule.values())
    rua_address = dmarc_address_for(tenant.client)
    for report_id, days_ago in (("old", 420), ("edge", 398), ("new", 3)):
        xml = aggregate_xml(tenant.domain.name, [Source(GOOGLE, 5)], report_id=report_id, begin=day_start(days_ago))
        email = ReceivedMessage.objects.create(
            address=rua_address,
            peer=GOOD_IP,
            recipient="x",
            received=now() - timedelta(days=days_ago),
            wipe_after=now(),
        )
        dmarc_report_record(client=tenant.client, report=parse_report(xml), message=email)
    unread = ReceivedMessage.objects.create(  # a report email with no report kept, long ago
        address=rua_address, peer=GOOD_IP, recipient="x", received=now() - timedelta(days=401), wipe_after=now()
    )
    assert prune_dmarc_reports() == {"reports": 1, "sources": 1, "emails": 2}
    assert set(DmarcReport.objects.values_list("report_id", flat=True)) == {"edge", "new"}
    assert DmarcSource.objects.count() == 2
    assert not ReceivedMessage.objects.filter(id=unread.id).exists()
    assert ReceivedMessage.objects.count() == 2
    settings.DMARC_REPORT_RETENTION_DAYS = 30
    assert prune_dmarc_reports() == {"reports": 1, "sources": 1, "emails": 1}
    assert list(DmarcReport.objects.values_list("report_id", flat=True)) == ["new"]


def test_a_report_naming_another_clients_domain_never_shows_on_this_clients_page(
    tenant: Tenant, other_tenant: Tenant, receiver: Running, world_sandbox: Sandbox
) -> None:
    rua = address_text(dmarc_address_for(tenant.client), MAIL_DOMAIN)
    theirs = other_tenant.domain.name
    xml = aggregate_xml(theirs, [Source(SENDGRID, 77, dkim="fail", spf="fail")], org="google.com", report_id="theirs")
    mail(receiver.port, rua, report_email(rua, theirs, gzipped(xml), name="r.xml.gz", content_type="application/gzip"))
    (message_id,) = receiver.stored
    received = received_message_verify(message_id, config=world_sandbox.net_config())
    assert received is not None and received.verdict["reports"] == 0
    assert not DmarcReport.objects.exists() and not DmarcSource.objects.exists()  # neither client's
    for who, client in ((tenant.consultant, tenant.client), (other_tenant.consultant, other_tenant.client)):
        page = login(who).get(reverse("dmarc_senders", args=[client.code])).content.decode()
        assert "No DMARC report has been received" in page and SENDGRID not in page
    # The other client's own report, mailed to its own mailbox, is its alone.
    their_rua = address_text(dmarc_address_for(other_tenant.client), MAIL_DOMAIN)
    raw = report_email(their_rua, theirs, gzipped(xml), name="r.xml.gz", content_type="application/gzip")
    mail(receiver.port, their_rua, raw)
    received_message_verify(receiver.stored[1], config=world_sandbox.net_config())
    assert DmarcSource.objects.get().client_id == other_tenant.client.id
    mine = login(tenant.consultant).get(reverse("dmarc_senders", args=[tenant.client.code])).content.decode()
    assert SENDGRID not in mine and "77 messages" not in mine
    card = login(tenant.founder).get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert SENDGRID not in card
    assert login(tenant.consultant).get(reverse("dmarc_senders", args=[other_tenant.client.code])).status_code == 404


def test_a_hostile_report_of_10000_records_is_escaped_bounded_and_read(
    tenant: Tenant, receiver: Running, world_sandbox: Sandbox
) -> None:
    from launchready.bidi import CONTROLS

    hostile = '<script>alert(1)</script>\u202egpj.exe"><img src=x onerror=alert(2)>'
    domain = tenant.domain.name
    counts = random.Random(7)  # counts that differ, as a real report's do: it packs like one (about 60 to 1)
    rows = [
        Source(f"203.0.{n % 500 // 250}.{n % 250 + 1}", counts.randint(1, 999), dkim="fail", spf="fail")
        for n in range(10_000)
    ]
    xml = aggregate_xml(domain, rows, org=hostile, report_id=hostile, begin=day_start(1))
    assert xml.count(b"<record>") == 10_000
    rua = address_text(dmarc_address_for(tenant.client), MAIL_DOMAIN)
    mail(receiver.port, rua, report_email(rua, domain, gzipped(xml), name="r.xml.gz", content_type="application/gzip"))
    (message_id,) = receiver.stored
    received = received_message_verify(message_id, config=world_sandbox.net_config())
    assert received is not None and received.verdict["reports"] == 1
    assert DmarcReport.objects.get().messages == sum(r.count for r in rows)
    assert DmarcSource.objects.count() == 500  # summed per source address, not a row per record
    http = login(tenant.consultant)
    page = http.get(reverse("dmarc_senders", args=[tenant.client.code])).content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "\u202e" not in page and not CONTROLS.search(page)
    assert "500 sources" in page and "And 450 smaller sources not shown." in page  # the first 50 only
    assert page.count('data-label="Messages"') == 50
    card = http.get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert "<script>alert(1)" not in card and "\u202e" not in card
