"""No sentence of the weekly report or the digest reassures without evidence: "nothing urgent" needs an audit,
"0 outages" and "all calm" are never said while a route is down, and no report, preview or history covers a
week that ended before its client existed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from audits.models import AuditRun
from monitoring.models import Incident, Monitor
from reports.digest import digest_message, digest_rows
from reports.mail import preview, render
from reports.models import WeeklyReport
from reports.schedule import preview_week
from reports.weekly import build_report
from reports.weeks import week_of
from tests.conftest import Tenant, login
from tests.factories import RouteFactory
from tests.reports.report_data import WEEK, existed_since, history, monitors_of, probe_days

pytestmark = pytest.mark.django_db


def test_nothing_urgent_is_said_only_after_an_audit(tenant: Tenant) -> None:
    history(tenant.client, weeks=1)
    before = render(build_report(tenant.client, WEEK))
    for part in (before.text, before.html):
        assert "Nothing urgent" not in part and "no open risk" not in part
        assert "No audit has finished yet, so the risks are not known" in part
        assert "Not checked yet: no audit has finished." in part and "seen by the last audit" not in part
    assert "not audited yet" in before.text
    AuditRun.objects.create(
        domain=tenant.domain, state="done", go=True, created=timezone.now(), finished_at=timezone.now()
    )
    after = render(build_report(tenant.client, WEEK))
    assert "Nothing urgent: the last audit left no open risk." in after.text
    assert "Nothing urgent: the last audit left no open risk." in after.html
    AuditRun.objects.create(  # a later audit cut short: no finding is not evidence
        domain=tenant.domain, state="partial", go=True, created=timezone.now(), finished_at=timezone.now()
    )
    cut_short = render(build_report(tenant.client, WEEK))
    for part in (cut_short.text, cut_short.html):
        assert "Nothing urgent" not in part and "the last audit could not finish every check" in part


def _four_down(tenant: Tenant) -> list[Monitor]:
    existed_since(tenant.client, timezone.now() - timedelta(days=30))
    for _ in range(3):
        RouteFactory(domain=tenant.domain)
    monitors = monitors_of(tenant.client)
    for monitor in monitors:  # down since a few minutes: after the last full week ended
        Incident.objects.create(monitor=monitor, started_at=timezone.now() - timedelta(minutes=7), cause="timeout")
    return monitors


def test_the_digest_counts_routes_down_now_and_never_calls_it_calm(tenant: Tenant) -> None:
    _four_down(tenant)
    membership = Membership.objects.get(user=tenant.consultant, workspace=tenant.client.workspace)
    rows = digest_rows([tenant.client])
    assert rows[0].data["summary"]["down_now"] == 4 and rows[0].data["summary"]["incidents"] == 0
    message = digest_message(membership, rows)
    text, html = str(message.body), str(message.alternatives[0][0])
    assert "all calm" not in message.subject and "1 needs you" in message.subject
    assert "4 routes DOWN NOW" in text and "4 routes down now" in html
    for part in (text, html):
        assert "0 outages" not in part
    page = login(tenant.consultant).get(reverse("report_digest")).content.decode()
    assert "4 down" in page and "none last week" in page


def test_the_report_of_a_calm_week_says_the_routes_down_now(tenant: Tenant) -> None:
    _four_down(tenant)
    data, email = preview(tenant.client, preview_week(tenant.client))
    assert data["summary"]["down_now"] == 4
    headline = data["summary"]["headline"]
    assert "4 routes are down now" in headline and "no outage" not in headline
    assert "no outage" not in email.subject and "4 routes down now" in email.subject
    assert "Down right now  4 routes" in email.text and "None this week." not in email.text
    assert "4 routes down now" in email.html and "No outage this week" not in email.html


def test_a_new_client_is_never_offered_a_week_before_it_existed(tenant: Tenant) -> None:
    now = timezone.now()
    tz_week = week_of(now, UTC)  # the factory's zone is London: in December it is UTC
    assert tenant.client.created > datetime.combine(tz_week, datetime.min.time(), tzinfo=UTC)
    week = preview_week(tenant.client)
    assert week == tz_week + timedelta(days=7)  # this week's report would cover last week: not offered
    data, _ = preview(tenant.client, week)
    created = tenant.client.created.astimezone(UTC).date()
    assert data["week"]["partial"] is (created > tz_week)
    assert data["week"]["label"].startswith(f"{created.day}")  # the first report covers the days since
    page = login(tenant.consultant).get(reverse("report_preview", args=[tenant.client.code])).content.decode()
    assert data["week"]["label"] in page


def test_the_history_hides_weeks_that_ended_before_the_client_existed(tenant: Tenant) -> None:
    old = WeeklyReport.objects.create(
        client=tenant.client,
        week=date(2026, 11, 16),
        period_start=datetime(2026, 11, 9, tzinfo=UTC),
        period_end=datetime(2026, 11, 16, tzinfo=UTC),
        state="sent",
        subject="old",
    )
    page = login(tenant.consultant).get(reverse("report_history", args=[tenant.client.code])).content.decode()
    assert str(old.code) not in page
    existed_since(tenant.client, datetime(2026, 11, 1, tzinfo=UTC))
    page = login(tenant.consultant).get(reverse("report_history", args=[tenant.client.code])).content.decode()
    assert str(old.code) in page


def test_the_first_report_covers_only_the_days_since_the_client_was_added(tenant: Tenant) -> None:
    tenant.client.timezone = "UTC"
    tenant.client.save(update_fields=["timezone"])
    added = datetime(2026, 11, 11, 9, 30, tzinfo=UTC)  # the Wednesday of the week reported on 16 November
    monitors = monitors_of(tenant.client)
    existed_since(tenant.client, added)
    for monitor in monitors:
        probe_days(monitor, datetime(2026, 11, 11, tzinfo=UTC), 5, 100.0)
    data = build_report(tenant.client, WEEK)
    assert data["week"]["label"] == "11–15 November 2026" and data["week"]["partial"] is True
    summary = data["summary"]
    # 20 probes an hour for two hours a day, five days, of a one-minute monitor: 200 minutes watched.
    assert summary["uptime_text"] == "100% over 3 hours" and "the whole week" not in summary["headline"]
    email = render(data)
    assert "11–15 November 2026" in email.subject and "9–15 November" not in email.text


def test_the_history_names_the_days_a_first_report_covered(tenant: Tenant) -> None:
    existed_since(tenant.client, datetime(2026, 11, 11, 9, 30, tzinfo=UTC))
    report = WeeklyReport.objects.create(
        client=tenant.client,
        week=date(2026, 11, 16),
        period_start=datetime(2026, 11, 9, tzinfo=UTC),
        period_end=datetime(2026, 11, 16, tzinfo=UTC),
        state="sent",
        subject="first",
        data={"week": {"label": "11–15 November 2026"}},
    )
    for user in (tenant.consultant, tenant.founder):
        history_page = login(user).get(reverse("report_history", args=[tenant.client.code])).content.decode()
        assert "11–15 November 2026" in history_page and "9–15 November 2026" not in history_page
    home = login(tenant.founder).get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert "11–15 November 2026" in home
    assert WeeklyReport.objects.get(pk=report.pk).period_label == "11–15 November 2026"


def test_an_audit_that_could_not_check_is_never_called_go(tenant: Tenant) -> None:
    """A finished run whose verdict is "could not check" (no route answered, a check failed): the report,
    the digest and its page say so, never GO, and the digest counts the client among those needing you."""
    history(tenant.client, weeks=1)
    AuditRun.objects.create(
        domain=tenant.domain,
        state="done",
        go=False,
        verdict="unchecked",
        created=timezone.now(),
        finished_at=timezone.now(),
    )
    report = build_report(tenant.client, WEEK)
    assert report["summary"]["verdict"] == "unchecked"
    rendered = render(report)
    for part in (rendered.text, rendered.html):
        assert "COULD NOT CHECK" in part and "GO (no open blocker)" not in part and ">GO<" not in part
        assert "Nothing urgent" not in part
    membership = Membership.objects.get(user=tenant.consultant, workspace=tenant.client.workspace)
    rows = digest_rows([tenant.client])
    digest = digest_message(membership, rows)
    html = next(content for content, kind in digest.alternatives if kind == "text/html")
    assert "COULD NOT CHECK" in digest.body and "COULD NOT CHECK" in html
    assert rows[0].attention >= 100, "a client whose audit could not check needs the consultant"
    page = login(tenant.consultant).get(reverse("report_digest")).content.decode()
    assert "Could not check" in page


def test_a_week_nobody_watched_never_says_no_outage(tenant: Tenant) -> None:
    """Before any monitor reported, "0 outages" and "No outage this week" would reassure without evidence."""
    existed_since(tenant.client, timezone.now() - timedelta(days=30))
    rendered = render(build_report(tenant.client, WEEK))
    assert rendered.html.count("Not watched yet") == 1 and "outages: not watched yet" in rendered.html
    assert "No outage this week" not in rendered.html
    assert "None this week." not in rendered.text and "Not watched yet" in rendered.text
    assert "Outages         not watched yet" in rendered.text
    assert "no monitoring results yet" in rendered.subject and "no outage" not in rendered.subject


def test_a_committed_key_counts_as_a_blocker_on_every_screen(tenant: Tenant) -> None:
    """The repository scan's findings are on the risk list, so the dashboard, the weekly report and the
    digest count its blockers too, and the founders' next steps name the key to rotate."""
    from audits.risk import risk_list
    from web.demo_repository import seed_repo_scan

    history(tenant.client, weeks=1)
    AuditRun.objects.create(
        domain=tenant.domain, state="done", go=True, created=timezone.now(), finished_at=timezone.now()
    )
    seed_repo_scan(tenant.client)
    blockers = risk_list(tenant.client).counts["blocker"]
    assert blockers >= 2
    dashboard = login(tenant.consultant).get(reverse("dashboard")).content.decode()
    assert f"No-go · {blockers} blockers" in dashboard
    report = build_report(tenant.client, WEEK)
    assert report["summary"]["blockers"] == blockers and report["summary"]["go"] is False
    rendered = render(report)
    assert f"NO-GO ({blockers} open blockers)" in rendered.text
    assert "sk_live" in rendered.text or "Stripe" in rendered.text, "the key to rotate is a next step"
    rows = digest_rows([tenant.client])
    assert rows[0].data["summary"]["blockers"] == blockers
