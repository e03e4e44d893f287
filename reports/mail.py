"""The weekly report as email: subject, text and HTML from the report's facts; founders in To and the
consultants in Cc, one message per reader with their own signed one-click opt-out (RFC 8058); and the
send itself, claimed before anything goes out so that retries, two workers or a restarted scheduler
never send a report twice.

The claim moves a report PENDING -> CLAIMED (facts built, snapshot kept) -> SENDING (handing to the mail
server) -> SENT. Each reader's address is written to `recipients` before its message is handed over and to
`delivered` once the server accepted it; a claim whose worker died is taken over when its lease runs
out, and the new holder sends only to the addresses never handed over, so nobody gets it twice."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.html import escape

from accounts.models import STAFF_ROLES, Role
from accounts.selectors import active_member_emails
from launchready.models import Client
from launchready.plaintext import render_email_html, render_subject, render_text
from reports.models import ReportOptOut, WeeklyReport
from reports.weekly import build_report, build_reports
from reports.weeks import period_for

log = logging.getLogger(__name__)

OPT_OUT_SALT = "handover.report.opt-out"
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 3
READERS_LINK = "https://opt-out.launchready.invalid/reader"  # stands in for each reader's own link
NOBODY = "Nobody to send to: no founder or consultant, or all opted out."
State = WeeklyReport.State
# The server answered "no" to these: the message was not accepted, so trying again cannot duplicate it.
REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


# --- the signed opt-out ---------------------------------------------------------------------------------


def _address_tag(email: str) -> str:
    # The link names the address by a keyed hash: no email address in URLs, logs or browser history.
    return salted_hmac(OPT_OUT_SALT, email.strip().lower()).hexdigest()[:24]


def opt_out_token(client: Client, email: str) -> str:
    return signing.dumps({"c": str(client.code), "a": _address_tag(email)}, salt=OPT_OUT_SALT)


def read_opt_out_token(token: str) -> tuple[Client, str] | None:
    """The client and address a link was signed for; None for a link that was altered, made up, or whose
    address no longer belongs to the client's founders or consultants."""
    try:
        value = signing.loads(token, salt=OPT_OUT_SALT)
        client = Client.objects.filter(code=uuid.UUID(str(value["c"]))).first()
        tag = str(value["a"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if client is None:
        return None
    people = recipients(client)
    for email in people.everyone + people.opted_out:
        if constant_time_compare(_address_tag(email), tag):
            return client, email
    return None


def opt_out_url(client: Client, email: str) -> str:
    return settings.SITE_URL + reverse("report_opt_out", args=[opt_out_token(client, email)])


def opt_out(client: Client, email: str) -> None:
    ReportOptOut.objects.get_or_create(client=client, email=email.strip().lower())


def opt_in(client: Client, email: str) -> None:
    ReportOptOut.objects.filter(client=client, email=email.strip().lower()).delete()


# --- who receives it ---------------------------------------------------------------------------------


@dataclass
class Recipients:
    founders: list[str]
    consultants: list[str]
    opted_out: list[str]

    @property
    def everyone(self) -> list[str]:
        return self.founders + self.consultants


def recipients(client: Client) -> Recipients:
    """The client's founders and the workspace's consultants, less whoever opted out."""
    out = set(ReportOptOut.objects.filter(client=client).values_list("email", flat=True))
    founders: set[str] = set()
    consultants: set[str] = set()
    for role, client_id, email in active_member_emails(workspace_id=client.workspace_id):
        if role in STAFF_ROLES:
            consultants.add(email)
        elif role == Role.FOUNDER and client_id == client.id:
            founders.add(email)
    consultants -= founders
    return Recipients(sorted(founders - out), sorted(consultants - out), sorted((founders | consultants) & out))


# --- rendering ----------------------------------------------------------------------------------------


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


def render(data: dict[str, Any], *, opt_out_link: str = "") -> Rendered:
    context = {
        **data,
        "optout_url": opt_out_link,
        "dashboard_url": f"{settings.SITE_URL}{reverse('client_detail', args=[data['client_code']])}",
    }
    subject = render_subject("reports/email/weekly_report-subject.txt", context)
    return Rendered(
        subject[:300],
        render_text("reports/email/weekly_report-body-text.txt", context),
        render_email_html("reports/email/weekly_report-body-html.html", context),
    )


def messages(report: WeeklyReport, people: Recipients, skip: set[str]) -> list[EmailMultiAlternatives]:
    """One message per reader, each carrying that reader's own opt-out link and List-Unsubscribe header, so
    an unsubscribe clicked by one reader (or by their mail client) only ever opts out that reader. Read as
    one copied email: the headers show the founders in To and the consultants in Cc, while each message's
    envelope holds its one reader. With no founder to write to, each consultant gets it addressed to them."""
    shown = {"To": ", ".join(people.founders)} if people.founders else {}
    if people.founders and people.consultants:
        shown["Cc"] = ", ".join(people.consultants)
    host = urlsplit(settings.SITE_URL).hostname or "launchready.invalid"
    rendered = render(report.data, opt_out_link=READERS_LINK)  # once; each copy then gets its reader's link
    out: list[EmailMultiAlternatives] = []
    for n, address in enumerate(people.everyone):
        if address in skip:
            continue
        link = opt_out_url(report.client, address)
        message = EmailMultiAlternatives(
            rendered.subject,
            rendered.text.replace(READERS_LINK, link),
            to=[address],
            headers={
                **shown,
                "List-Unsubscribe": f"<{link}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "List-Id": f"<weekly-status.{report.client.code}.{host}>",
                "Message-ID": f"<weekly-{report.code}-{n}@{host}>",
                "X-Auto-Response-Suppress": "OOF, AutoReply",
                "Auto-Submitted": "auto-generated",
            },
        )
        message.attach_alternative(rendered.html.replace(READERS_LINK, escape(link)), "text/html")
        out.append(message)
    return out


def preview(client: Client, sent_week: Any) -> tuple[dict[str, Any], Rendered]:
    """What this week's report says, as the founders will read it (without anyone's opt-out link)."""
    data = build_report(client, sent_week)
    return data, render(data, opt_out_link="")


# --- the send, claimed ---------------------------------------------------------------------------------


def report_create(*, client: Client, sent_week: Any) -> WeeklyReport:
    """The one row of a client's week (made by whoever comes first; the constraint keeps it one)."""
    period = period_for(client, sent_week)
    report, _ = WeeklyReport.objects.get_or_create(
        client=client, week=sent_week, defaults={"period_start": period.start, "period_end": period.end}
    )
    return report


def _claim(report_id: int) -> uuid.UUID | None:
    now = timezone.now()
    claim = uuid.uuid4()
    free = Q(state=State.PENDING) | Q(state__in=[State.CLAIMED, State.SENDING], lease_until__lt=now)
    taken = (
        WeeklyReport.objects.filter(free, id=report_id)
        .exclude(attempts__gte=MAX_ATTEMPTS + 2)  # a report that keeps killing its worker stops somewhere
        .update(state=State.CLAIMED, claim=claim, lease_until=now + LEASE, attempts=F("attempts") + 1)
    )
    return claim if taken else None


def _mine(report: WeeklyReport, claim: uuid.UUID, **changes: Any) -> bool:
    """Apply changes only while the claim is still ours (and renew its lease)."""
    return bool(
        WeeklyReport.objects.filter(id=report.id, claim=claim).update(lease_until=timezone.now() + LEASE, **changes)
    )


def prepare(report_ids: list[int]) -> int:
    """Build the facts and the snapshot of many waiting reports at once (a fixed number of queries per
    time zone and week, whatever their number), so that each send only renders and hands over. A row
    already claimed, or already prepared, is left as it is."""
    rows = WeeklyReport.objects.filter(id__in=report_ids, state=State.PENDING, data={}).select_related("client")
    weeks: dict[Any, list[WeeklyReport]] = defaultdict(list)
    for report in rows:
        weeks[report.week].append(report)
    prepared = 0
    for week, group in weeks.items():
        facts = build_reports([r.client for r in group], week)
        for report in group:
            snapshot = render(facts[report.client_id])
            report.data = facts[report.client_id]
            report.subject, report.text, report.html = snapshot.subject, snapshot.text, snapshot.html
        # One conditional update per batch: a row claimed (or prepared) meanwhile keeps what it has.
        still_waiting = WeeklyReport.objects.filter(state=State.PENDING, data={})
        prepared += still_waiting.bulk_update(group, ["data", "subject", "text", "html"], batch_size=200)
    return prepared


def deliver(report_id: int, connection: Any = None) -> str:
    """Claim, build (unless prepared), send through `connection` (default: the configured mail server).
    Returns what happened; a mail server's failure is recorded, never raised."""
    claim = _claim(report_id)
    if claim is None:
        return "not pending"
    report = WeeklyReport.objects.select_related("client").get(id=report_id)
    if not report.data:
        data = build_report(report.client, report.week)
        snapshot = render(data)
        report.data, report.subject, report.text, report.html = data, snapshot.subject, snapshot.text, snapshot.html
        if not _mine(report, claim, data=data, subject=snapshot.subject, text=snapshot.text, html=snapshot.html):
            return "claim lost"
    attempted = set(report.recipients)
    pending = messages(report, recipients(report.client), skip=attempted)
    if not pending:
        if not attempted:
            return _finish(report, claim, State.SKIPPED, NOBODY)
        uncertain = attempted - set(report.delivered)
        # Addresses handed over by a worker that stopped before hearing back: perhaps received, never resent.
        note = f"Delivery to {len(uncertain)} address(es) unconfirmed: sending stopped midway." if uncertain else ""
        return _finish(report, claim, State.SENT, note)
    return _hand_over(report, claim, pending, attempted, connection or get_connection(fail_silently=False))


def _hand_over(
    report: WeeklyReport,
    claim: uuid.UUID,
    pending: list[EmailMultiAlternatives],
    attempted: set[str],
    connection: Any,
) -> str:
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:
        return _retry_or_fail(report, claim, f"The mail server could not be reached ({type(exc).__name__}).")
    delivered = list(report.delivered)
    refused: list[str] = []
    try:
        for n, message in enumerate(pending):
            address = message.to[0]
            attempted.add(address)
            # Written before the hand-over: whoever takes this claim over never sends to it again.
            if not _mine(report, claim, state=State.SENDING, recipients=sorted(attempted)):
                return "claim lost"
            try:
                connection.send_messages([message])
            except REFUSED as exc:
                refused.append(address)
                log.warning("weekly report %s refused by the mail server: %s", report.code, type(exc).__name__)
                continue
            delivered.append(address)
            if n < len(pending) - 1:
                _mine(report, claim, delivered=delivered)
    except (OSError, smtplib.SMTPException) as exc:
        # The connection broke mid-message: the server may have it, so that address is never tried again;
        # the addresses not handed over yet wait for the next try.
        error = f"The mail server connection broke during the hand-over ({type(exc).__name__})."
        return _retry_or_fail(report, claim, error, delivered=delivered)
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()
    error = f"Refused by the mail server: {len(refused)} address{'es' if len(refused) != 1 else ''}." if refused else ""
    return _finish(report, claim, State.SENT if delivered else State.FAILED, error, delivered=delivered)


def _finish(report: WeeklyReport, claim: uuid.UUID, state: str, error: str, **changes: Any) -> str:
    WeeklyReport.objects.filter(id=report.id, claim=claim).update(
        state=state,
        error=error[:300],
        lease_until=None,
        sent_at=timezone.now() if state == State.SENT else None,
        **changes,
    )
    return str(state)


def _retry_or_fail(report: WeeklyReport, claim: uuid.UUID, error: str, **changes: Any) -> str:
    # What was handed over is in `recipients` and is skipped next time: the rest can safely wait a retry.
    retry = report.attempts < MAX_ATTEMPTS
    WeeklyReport.objects.filter(id=report.id, claim=claim).update(
        state=State.PENDING if retry else State.FAILED, error=error[:300], lease_until=None, claim=None, **changes
    )
    log.warning("weekly report %s: %s", report.code, error)
    return "retry" if retry else "failed"
