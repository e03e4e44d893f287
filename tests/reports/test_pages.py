"""Report pages: the consultant's preview (the email as it will be sent, and its text part), the history
founders and consultants read, the schedule form, and the digest of every client."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from reports.models import ReportSchedule, WeeklyReport
from tests.conftest import Tenant, login, make_tenant
from tests.factories import ClientFactory
from tests.reports.report_data import existed_since, history

pytestmark = pytest.mark.django_db


def _report(tenant: Tenant, state: str, week: date = date(2026, 11, 16)) -> WeeklyReport:
    existed_since(tenant.client, datetime(2026, 11, 1, tzinfo=UTC))
    return WeeklyReport.objects.create(
        client=tenant.client,
        week=week,
        period_start=datetime(2026, 11, 9, tzinfo=UTC),
        period_end=datetime(2026, 11, 16, tzinfo=UTC),
        state=state,
        subject=f"{tenant.client.name} · weekly status",
        html=f"<html><body><p>Report of {tenant.client.name}</p></body></html>",
        text=f"Report of {tenant.client.name}",
        data={"week": {"number": 46, "label": "9–15 November 2026"}},
        sent_at=datetime(2026, 11, 16, 9, 1, tzinfo=UTC) if state == "sent" else None,
    )


def test_the_consultant_previews_the_email_and_its_text_part(tenant: Tenant) -> None:
    history(tenant.client, weeks=1)
    http = login(tenant.consultant)
    page = http.get(reverse("report_preview", args=[tenant.client.code]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "weekly status" in body and tenant.founder.email in body and tenant.owner.email in body
    assert reverse("report_preview_email", args=[tenant.client.code]) in body
    assert "ROUTES: UPTIME AND SPEED" in body  # the plain-text part
    email = http.get(reverse("report_preview_email", args=[tenant.client.code]))
    assert email.status_code == 200 and "Routes: uptime and speed" in email.content.decode()
    assert email["X-Frame-Options"] == "SAMEORIGIN"
    csp = email["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in csp and "frame-ancestors 'self'" in csp and "script-src 'none'" in csp
    assert "default-src 'none'" in csp


def test_a_founder_reads_their_sent_reports_but_not_the_preview_or_failures(tenant: Tenant) -> None:
    sent = _report(tenant, "sent")
    failed = _report(tenant, "failed", week=date(2026, 11, 23))
    http = login(tenant.founder)
    history_page = http.get(reverse("report_history", args=[tenant.client.code])).content.decode()
    assert reverse("report_detail", args=[sent.code]) in history_page
    assert str(failed.code) not in history_page and "Save schedule" not in history_page
    assert http.get(reverse("report_detail", args=[sent.code])).status_code == 200
    assert f"Report of {tenant.client.name}" in http.get(reverse("report_email", args=[sent.code])).content.decode()
    assert http.get(reverse("report_detail", args=[failed.code])).status_code == 404
    assert http.get(reverse("report_email", args=[failed.code])).status_code == 404
    assert http.get(reverse("report_preview", args=[tenant.client.code])).status_code == 403
    assert http.post(reverse("report_history", args=[tenant.client.code]), {"weekday": 1, "hour": 8}).status_code == 403
    assert not ReportSchedule.objects.exists()


def test_a_founder_never_sees_another_clients_report(tenant: Tenant) -> None:
    mine = _report(tenant, "sent")
    other = make_tenant()
    theirs = _report(other, "sent")
    http = login(tenant.founder)
    assert http.get(reverse("report_detail", args=[theirs.code])).status_code == 404
    assert http.get(reverse("report_email", args=[theirs.code])).status_code == 404
    assert http.get(reverse("report_history", args=[other.client.code])).status_code == 404
    assert other.client.name not in http.get(reverse("report_email", args=[mine.code])).content.decode()


def test_the_consultant_sets_the_schedule_and_a_bad_hour_is_a_form_error(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    url = reverse("report_history", args=[tenant.client.code])
    bad = http.post(url, {"enabled": "on", "weekday": "2", "hour": "31"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert not ReportSchedule.objects.exists()
    ok = http.post(url, {"enabled": "on", "weekday": "2", "hour": "8"})
    assert ok.status_code == 302
    schedule = ReportSchedule.objects.get(client=tenant.client)
    assert (schedule.weekday, schedule.hour, schedule.enabled) == (2, 8, True)
    assert "Next report: <strong>Wednesday" in http.get(url).content.decode()


def test_the_digest_lists_the_workspaces_clients_in_constant_queries(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    other = make_tenant()
    http = login(tenant.owner)
    url = reverse("report_digest")
    http.get(url)
    with django_assert_max_num_queries(22) as one:
        page = http.get(url)
    assert page.status_code == 200 and tenant.client.name in page.content.decode()
    assert other.client.name not in page.content.decode()
    _report(tenant, "failed")
    for _ in range(5):  # added when the tenant's client was: their weeks line up, as clients of one zone do
        existed_since(ClientFactory(workspace=tenant.workspace), tenant.client.created)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = http.get(url)
    assert page.content.decode().count("Not audited") == 6
    assert login(tenant.founder).get(url).status_code == 404


def test_the_founder_home_lists_the_reports_sent_to_their_company_only(tenant: Tenant) -> None:
    sent = _report(tenant, "sent")
    failed = _report(tenant, "failed", week=date(2026, 11, 23))
    other = make_tenant()
    elsewhere = _report(other, "sent")
    home = login(tenant.founder).get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert reverse("report_detail", args=[sent.code]) in home
    assert str(failed.code) not in home and str(elsewhere.code) not in home


def test_the_digest_dates_the_last_report_by_when_it_was_sent(tenant: Tenant) -> None:
    """A report on the week of 30 November sent on 1 December reads "Sent … 1 Dec", as the report says."""
    WeeklyReport.objects.create(
        client=tenant.client,
        week=date(2026, 11, 30),
        period_start=datetime(2026, 11, 23, tzinfo=UTC),
        period_end=datetime(2026, 11, 30, tzinfo=UTC),
        state=WeeklyReport.State.SENT,
        sent_at=datetime(2026, 12, 1, 21, 3, tzinfo=UTC),
        subject="Weekly status",
    )
    page = login(tenant.consultant).get(reverse("report_digest")).content.decode()
    assert "1 Dec" in page and "30 Nov" not in page


def test_the_preview_of_a_client_without_founders_says_who_gets_it(tenant: Tenant) -> None:
    tenant.founder.memberships.all().delete()
    page = login(tenant.consultant).get(reverse("report_preview", args=[tenant.client.code])).content.decode()
    assert "as the founders will read it" not in page and "no founder is invited yet" in page
