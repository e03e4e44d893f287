"""The weekly report by email, through the real SMTP sink and read back with the `email` package: founders
in To, consultants in Cc, both parts, the numbers of the rollups, List-Unsubscribe with one-click POST,
a signed opt-out that cannot be forged; and a claimed send that never goes out twice."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client as HttpClient
from django.utils import timezone

from accounts.models import Role
from launchready.sandbox.smtp import SmtpSink, html_body, text_body
from reports.mail import deliver, opt_out_token, read_opt_out_token, recipients, report_create
from reports.models import ReportOptOut, WeeklyReport
from tests.conftest import Tenant, make_tenant
from tests.factories import MembershipFactory
from tests.reports.report_data import WEEK, add_routes, history, week_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings, smtp_sink: SmtpSink) -> SmtpSink:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_sink.host
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_USE_TLS = False
    settings.SITE_URL = "https://app.launchready.example"
    return smtp_sink


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.parts.append(data.strip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.extend(v for k, v in attrs if k == "href" and v)


def _read_html(message: EmailMessage) -> _Text:
    parser = _Text()
    parser.feed(html_body(message))
    return parser


def _sent(tenant: Tenant, smtp: SmtpSink) -> EmailMessage:
    """The founder's message (the owner's and the consultant's copies arrive beside it)."""
    report = report_create(client=tenant.client, sent_week=WEEK)
    assert deliver(report.id) == "sent"
    [message] = smtp.received_by(tenant.founder.email)
    return message


def test_the_report_arrives_with_both_parts_and_the_rollups_numbers(tenant: Tenant, smtp: SmtpSink) -> None:
    add_routes(tenant.domain)
    period = history(tenant.client)
    week_events(tenant.client, tenant.domain, period)
    message = _sent(tenant, smtp)

    assert message["To"] == tenant.founder.email
    assert message["Auto-Submitted"] == "auto-generated"
    assert {a.strip() for a in message["Cc"].split(",")} == {tenant.owner.email, tenant.consultant.email}
    assert (
        message["Subject"]
        .strip()
        .startswith(f"{tenant.client.name} · weekly status, 9–15 November 2026: 98.33% uptime")
    )
    assert message.get_content_type() == "multipart/alternative"
    text, html = text_body(message), _read_html(message)
    for part in (text, " ".join(html.parts)):
        assert "95%" in part and "500 ms" in part and "100%" in part  # the slow route and the others
        assert "14 min" in part and "Timeout" in part
        assert "v1.4.2" in part and "answered 502" in part
        assert "No DMARC record" in part and "The app serves its .env file" in part
        assert f"www.{tenant.domain.name}" in part and "40 days" in part
    assert "slower: 100 ms last week (+400%)" in text
    assert "NO-GO (1 open blocker)" in text
    assert any(link.endswith(f"/clients/{tenant.client.code}/") for link in html.links)


def test_the_opt_out_link_works_in_one_click_and_cannot_be_forged(tenant: Tenant, smtp: SmtpSink) -> None:
    message = _sent(tenant, smtp)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header_url = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"].strip()).group(1)  # type: ignore[union-attr]
    assert header_url.startswith("https://app.launchready.example/reports/opt-out/")
    assert header_url in text_body(message) and header_url in _read_html(message).links
    path = urlsplit(header_url).path
    anonymous = HttpClient(enforce_csrf_checks=True)

    page = anonymous.get(path)  # a link preview or a scanner only looks: nothing changes
    assert page.status_code == 200 and "Stop the weekly report?" in page.content.decode()
    assert not ReportOptOut.objects.exists()

    done = anonymous.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and "unsubscribed" in done.content.decode()
    assert list(ReportOptOut.objects.values_list("email", flat=True)) == [tenant.founder.email]
    assert tenant.founder.email not in recipients(tenant.client).founders

    token = path.split("/")[-2]
    payload = signing.b64_decode(token.split(":")[0].encode()).decode()
    assert "@" not in payload and tenant.founder.email not in header_url  # no address in URLs or logs
    forged = opt_out_token(tenant.client, "someone@else.example")[:-3] + "abc"
    for bad in (token[:-2] + ("xx" if not token.endswith("xx") else "yy"), forged, "nonsense", token.replace(":", "")):
        response = anonymous.post(
            f"/reports/opt-out/{bad}/", "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 400 and "not valid" in response.content.decode()
    assert ReportOptOut.objects.count() == 1
    assert read_opt_out_token(token) == (tenant.client, tenant.founder.email)

    back = anonymous.post(path, {"action": "opt_in"})
    assert back.status_code == 200 and not ReportOptOut.objects.exists()


def test_an_opted_out_founder_is_not_sent_to(tenant: Tenant, smtp: SmtpSink) -> None:
    second = MembershipFactory(workspace=tenant.workspace, role=Role.FOUNDER, client=tenant.client).user
    ReportOptOut.objects.create(client=tenant.client, email=tenant.founder.email)
    report = report_create(client=tenant.client, sent_week=WEEK)
    assert deliver(report.id) == "sent"
    assert smtp.received_by(tenant.founder.email) == []
    [message] = smtp.received_by(second.email)
    assert message["To"] == second.email
    assert tenant.founder.email not in str(message)
    report.refresh_from_db()
    assert sorted(report.delivered) == sorted([second.email, tenant.owner.email, tenant.consultant.email])


def test_every_reader_gets_one_copy_with_their_own_opt_out(tenant: Tenant, smtp: SmtpSink) -> None:
    second = MembershipFactory(workspace=tenant.workspace, role=Role.FOUNDER, client=tenant.client).user
    report = report_create(client=tenant.client, sent_week=WEEK)
    assert deliver(report.id) == "sent"
    readers = [tenant.founder.email, second.email, tenant.owner.email, tenant.consultant.email]
    copies = {address: smtp.received_by(address) for address in readers}
    assert all(len(got) == 1 for got in copies.values()) and len(smtp.messages) == 4
    for message in smtp.messages:  # read as one email: the founders in To, the consultants in Cc
        assert {a.strip() for a in message["To"].split(",")} == {tenant.founder.email, second.email}
        assert {a.strip() for a in message["Cc"].split(",")} == {tenant.owner.email, tenant.consultant.email}
    assert len({m["Message-ID"] for m in smtp.messages}) == 4
    # Each reader's one-click link opts out that reader only: the consultant's never silences a founder.
    links = {address: got[0]["List-Unsubscribe"].strip().strip("<>") for address, got in copies.items()}
    assert len(set(links.values())) == 4
    one_click = HttpClient(enforce_csrf_checks=True).post(
        urlsplit(links[tenant.consultant.email]).path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    assert list(ReportOptOut.objects.values_list("email", flat=True)) == [tenant.consultant.email]


def test_nobody_to_send_to_is_recorded_not_crashed(tenant: Tenant, smtp: SmtpSink) -> None:
    for email in (tenant.founder.email, tenant.owner.email, tenant.consultant.email):
        ReportOptOut.objects.create(client=tenant.client, email=email)
    report = report_create(client=tenant.client, sent_week=WEEK)
    assert deliver(report.id) == "skipped"
    report.refresh_from_db()
    assert report.state == "skipped" and "Nobody to send to" in report.error
    assert smtp.messages == []


def test_a_report_is_sent_once_whatever_calls_it(tenant: Tenant, smtp: SmtpSink) -> None:
    _sent(tenant, smtp)
    report = report_create(client=tenant.client, sent_week=WEEK)  # a restarted scheduler makes the row again
    assert deliver(report.id) == "not pending"  # a retried or duplicated task
    assert WeeklyReport.objects.count() == 1 and len(smtp.messages) == 3  # the founder, the owner, the consultant
    report.refresh_from_db()
    assert report.state == "sent" and report.html and report.text and report.data["client"] == tenant.client.name
    assert "opt-out" not in report.html  # the snapshot carries nobody's personal link


def test_a_worker_that_died_mid_send_is_taken_over_without_sending_twice(tenant: Tenant, smtp: SmtpSink) -> None:
    second = MembershipFactory(workspace=tenant.workspace, role=Role.FOUNDER, client=tenant.client).user
    report = report_create(client=tenant.client, sent_week=WEEK)
    # The first worker handed the founder's message over and died before hearing back.
    WeeklyReport.objects.filter(id=report.id).update(
        state="sending",
        claim=uuid.uuid4(),
        lease_until=timezone.now() + timedelta(minutes=1),
        attempts=1,
        recipients=[tenant.founder.email],
    )
    assert deliver(report.id) == "not pending"  # its lease still runs: nobody else touches it
    WeeklyReport.objects.filter(id=report.id).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert deliver(report.id) == "sent"
    assert smtp.received_by(tenant.founder.email) == []  # handed over before: perhaps received, never resent
    assert [len(smtp.received_by(a)) for a in (second.email, tenant.owner.email, tenant.consultant.email)] == [1, 1, 1]
    report.refresh_from_db()
    readers = [tenant.founder.email, second.email, tenant.owner.email, tenant.consultant.email]
    assert report.state == "sent" and report.recipients == sorted(readers)


def test_a_mail_server_that_is_down_means_a_retry_then_a_clear_failure(tenant: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    report = report_create(client=tenant.client, sent_week=WEEK)
    outcomes = [deliver(report.id) for _ in range(3)]
    assert outcomes == ["retry", "retry", "failed"]
    report.refresh_from_db()
    assert report.state == "failed" and "could not be reached" in report.error and report.recipients == []
    assert deliver(report.id) == "not pending"


def test_a_claim_taken_over_stops_the_slow_worker(tenant: Tenant, smtp: SmtpSink) -> None:
    from reports import mail as report_mail

    report = report_create(client=tenant.client, sent_week=WEEK)
    claim = report_mail._claim(report.id)
    assert claim is not None and report_mail._claim(report.id) is None  # one holder at a time
    WeeklyReport.objects.filter(id=report.id).update(claim=uuid.uuid4())  # another worker took over
    assert not report_mail._mine(report, claim, state="sending")


def test_the_beat_prepares_many_reports_at_once_and_leaves_claimed_ones_alone(smtp: SmtpSink) -> None:
    from reports import mail as report_mail

    tenants = [make_tenant() for _ in range(3)]
    rows = [report_create(client=t.client, sent_week=WEEK) for t in tenants]
    assert report_mail._claim(rows[0].id) is not None  # a worker got to this one first
    assert report_mail.prepare([r.id for r in rows]) == 2
    for row in rows:
        row.refresh_from_db()
    assert rows[0].data == {} and all(
        r.data["client"] == t.client.name for r, t in zip(rows[1:], tenants[1:], strict=True)
    )
    assert all(r.html and r.subject and r.state == "pending" for r in rows[1:])
    assert report_mail.prepare([r.id for r in rows]) == 0  # prepared once
    assert deliver(rows[1].id) == "sent"
    [message] = smtp.received_by(tenants[1].founder.email)
    assert tenants[1].client.name in message["Subject"]


def test_the_founder_of_another_client_in_the_workspace_is_never_a_recipient(tenant: Tenant, smtp: SmtpSink) -> None:
    from tests.factories import ClientFactory

    neighbour = ClientFactory(workspace=tenant.workspace)
    stranger = MembershipFactory(workspace=tenant.workspace, role=Role.FOUNDER, client=neighbour).user
    message = _sent(tenant, smtp)
    assert stranger.email not in message.as_string()
    assert message["To"] == tenant.founder.email and message["Bcc"] is None
    assert {a.strip() for a in message["Cc"].split(",")} == {tenant.owner.email, tenant.consultant.email}
