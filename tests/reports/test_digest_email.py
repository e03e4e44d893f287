"""The digest by email: consultants ask for it on the digest page, it goes out on Mondays from 08:00 UTC at
most once a week whatever runs the beat, lists only their workspace's clients, and stops in one click."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from accounts.models import Membership
from launchready.sandbox.smtp import SmtpSink, html_body, text_body
from reports.digest import send_digests
from reports.models import DigestSubscription
from tests.conftest import Tenant, login, make_tenant

pytestmark = pytest.mark.django_db

MONDAY_8 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


@pytest.fixture
def smtp(settings, smtp_sink: SmtpSink) -> SmtpSink:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = smtp_sink.host, smtp_sink.port, False
    settings.SITE_URL = "https://app.launchready.example"
    return smtp_sink


def _membership(tenant: Tenant) -> Membership:
    return Membership.objects.get(user=tenant.consultant, workspace=tenant.workspace)


def test_a_consultant_asks_for_the_digest_and_a_founder_cannot(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    page = http.post(reverse("report_digest"), {"action": "subscribe"}, follow=True)
    assert "Emailed to you on Mondays" in page.content.decode()
    assert DigestSubscription.objects.get().membership == _membership(tenant)
    http.post(reverse("report_digest"), {"action": "unsubscribe"})
    assert not DigestSubscription.objects.exists()
    assert login(tenant.founder).post(reverse("report_digest"), {"action": "subscribe"}).status_code == 404
    assert not DigestSubscription.objects.exists()


def test_the_digest_goes_out_once_a_week_with_only_the_workspaces_clients(tenant: Tenant, smtp: SmtpSink) -> None:
    other = make_tenant()
    DigestSubscription.objects.create(membership=_membership(tenant))
    DigestSubscription.objects.create(membership=_membership(other))
    assert send_digests(MONDAY_8 - timedelta(minutes=1)) == {}  # not before Monday 08:00 UTC
    assert send_digests(MONDAY_8) == {"sent": 2}
    assert send_digests(MONDAY_8 + timedelta(minutes=2)) == {}  # the next beat, a restarted scheduler
    messages = smtp.wait_for(2)
    assert len(messages) == 2
    mine = next(m for m in messages if m["To"] == tenant.consultant.email)
    for part in (text_body(mine), html_body(mine)):
        assert tenant.client.name in part and other.client.name not in part
    assert mine["Subject"].strip().startswith(f"{tenant.workspace.name} · weekly digest: 1 client")
    assert send_digests(MONDAY_8 + timedelta(days=7)) == {"sent": 2}  # next week, again once


def test_the_digest_stops_in_one_click_and_a_forged_link_does_nothing(tenant: Tenant, smtp: SmtpSink) -> None:
    DigestSubscription.objects.create(membership=_membership(tenant))
    send_digests(MONDAY_8)
    [message] = smtp.wait_for(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"].strip()).group(1)  # type: ignore[union-attr]
    path = urlsplit(url).path
    anonymous = HttpClient(enforce_csrf_checks=True)
    forged = anonymous.post(
        path[:-3] + "xx/", "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert forged.status_code == 400 and DigestSubscription.objects.exists()
    assert "Stop the weekly digest?" in anonymous.get(path).content.decode()
    done = anonymous.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and "unsubscribed" in done.content.decode()
    assert not DigestSubscription.objects.exists()


def test_a_mail_server_that_is_down_gives_the_week_back(tenant: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    DigestSubscription.objects.create(membership=_membership(tenant))
    assert send_digests(MONDAY_8) == {"retry": 1}
    subscription = DigestSubscription.objects.get()
    assert subscription.last_week is None and "could not be reached" in subscription.last_error
