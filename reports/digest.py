"""The consultant's digest: every client's last week at a glance, with its report's state, worst first; as a
page, and by email on Mondays to the consultants who ask for it (claimed, so at most once a week)."""

from __future__ import annotations

import contextlib
import smtplib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import STAFF_ROLES, Membership
from accounts.selectors import membership_by_code
from launchready.models import Client
from launchready.plaintext import render_email_html, render_subject, render_text
from reports.models import DigestSubscription, WeeklyReport
from reports.schedule import next_send
from reports.weekly import build_reports


@dataclass
class DigestRow:
    client: Client
    data: dict[str, Any]
    last_report: WeeklyReport | None
    next_send: datetime | None

    @property
    def slower(self) -> int:
        return sum(1 for r in self.data["routes"] if r["trend"] == "slower")

    @property
    def attention(self) -> int:
        """Higher needs the consultant sooner: a blocker, a route down now, then outages, then uptime under
        99.9%. Anything down now needs the consultant: the digest never calls such a week calm."""
        s = self.data["summary"]
        uptime = s["uptime_value"]
        return (
            (1000 if s["go"] is False else 0)
            + (200 if s.get("verdict") == "unchecked" else 0)
            + 500 * s.get("down_now", 0)
            + 100 * s["incidents"]
            + (10 if uptime is not None and uptime < 99.9 else 0)
            + self.slower
            + (5 if self.last_report and self.last_report.state == WeeklyReport.State.FAILED else 0)
        )


def digest_rows(clients: list[Client]) -> list[DigestRow]:
    """One row per client, from a fixed number of queries whatever the number of clients or their history."""
    reports = build_reports(clients)
    last: dict[int, WeeklyReport] = {}
    for report in (
        WeeklyReport.objects.filter(client__in=clients).defer("html", "text", "data").order_by("client_id", "-week")
    ):
        last.setdefault(report.client_id, report)
    rows = [DigestRow(c, reports[c.id], last.get(c.id), next_send(c)) for c in clients]
    rows.sort(key=lambda r: (-r.attention, r.client.name))
    return rows


# --- the digest by email ---------------------------------------------------------------------------------

DIGEST_SALT = "handover.digest.opt-out"
DIGEST_WEEKDAY, DIGEST_HOUR_UTC = 0, 8  # Mondays from 08:00 UTC


def digest_token(membership: Membership) -> str:
    return signing.dumps({"m": str(membership.code)}, salt=DIGEST_SALT)


def read_digest_token(token: str) -> Membership | None:
    try:
        code = uuid.UUID(str(signing.loads(token, salt=DIGEST_SALT)["m"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return membership_by_code(code=code)


def subscribe(membership: Membership) -> None:
    if membership.is_staff_role:
        DigestSubscription.objects.get_or_create(membership=membership)


def unsubscribe(membership: Membership) -> None:
    DigestSubscription.objects.filter(membership=membership).delete()


def digest_week(now: datetime) -> date | None:
    """The Monday of the week whose digest is due now (None before Monday 08:00 UTC)."""
    monday = (now.astimezone(UTC) - timedelta(days=now.astimezone(UTC).weekday())).date()
    due = datetime.combine(monday, time(DIGEST_HOUR_UTC), tzinfo=UTC) + timedelta(days=DIGEST_WEEKDAY)
    return monday if now >= due else None


def send_digests(now: datetime | None = None) -> dict[str, int]:
    """Every subscribed consultant's digest of this week, each claimed before it is sent."""
    now = now or timezone.now()
    week = digest_week(now)
    outcomes: dict[str, int] = {}
    if week is None:
        return outcomes
    due = DigestSubscription.objects.filter(membership__role__in=STAFF_ROLES).filter(
        Q(last_week__isnull=True) | Q(last_week__lt=week)
    )
    for subscription in due.select_related("membership__workspace", "membership__user"):
        outcome = deliver_digest(subscription, week)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def deliver_digest(subscription: DigestSubscription, week: date) -> str:
    before = subscription.last_week
    mine = (
        DigestSubscription.objects.filter(id=subscription.id, last_week=before)
        if before
        else (DigestSubscription.objects.filter(id=subscription.id, last_week__isnull=True))
    )
    if not mine.update(last_week=week):
        return "claimed elsewhere"
    membership = subscription.membership
    clients = list(
        Client.objects.filter(workspace_id=membership.workspace_id).select_related("report_schedule").order_by("name")
    )
    message = digest_message(membership, digest_rows(clients))
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:
        # Nothing reached the server: give the week back, the next beat tries again.
        DigestSubscription.objects.filter(id=subscription.id, last_week=week).update(
            last_week=before, last_error=f"The mail server could not be reached ({type(exc).__name__})."
        )
        return "retry"
    try:
        connection.send_messages([message])
    except (OSError, smtplib.SMTPException) as exc:
        # The server may have it: never sent again this week.
        DigestSubscription.objects.filter(id=subscription.id).update(last_error=f"Not sent: {type(exc).__name__}.")
        return "failed"
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()
    DigestSubscription.objects.filter(id=subscription.id).update(last_sent_at=timezone.now(), last_error="")
    return "sent"


def digest_message(membership: Membership, rows: list[DigestRow]) -> EmailMultiAlternatives:
    link = settings.SITE_URL + reverse("report_digest_opt_out", args=[digest_token(membership)])
    context = {
        "workspace": membership.workspace.name,
        "rows": rows,
        "needs_you": [r for r in rows if r.attention >= 100],
        "digest_url": settings.SITE_URL + reverse("report_digest"),
        "site_url": settings.SITE_URL,
        "optout_url": link,
    }
    subject = render_subject("reports/email/weekly_digest-subject.txt", context)
    message = EmailMultiAlternatives(
        subject[:300],
        render_text("reports/email/weekly_digest-body-text.txt", context),
        to=[membership.user.email],
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_email_html("reports/email/weekly_digest-body-html.html", context), "text/html")
    return message
