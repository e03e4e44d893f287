"""The weekly report names the background jobs that were late or failing in the week, and the deploys after
which a job did not ping, in its HTML and plain text alike."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitoring import lateness
from monitoring.models import Deploy, Heartbeat
from monitoring.pings import heartbeat_create, record_ping
from monitoring.smoke import follow_job_checks, start_job_checks
from reports.mail import render
from reports.weekly import build_report
from reports.weeks import period_for
from tests.conftest import Tenant
from tests.reports.report_data import WEEK

pytestmark = pytest.mark.django_db


def _ping(heartbeat: Heartbeat, kind: str, at: datetime) -> None:
    record_ping(Heartbeat.objects.select_related("client").get(pk=heartbeat.pk), kind, "", at)


def test_the_weeks_late_and_failing_jobs_are_in_the_report(tenant: Tenant) -> None:
    period = period_for(tenant.client, WEEK)
    tuesday = period.start + timedelta(days=1, hours=2)  # Tue 10 Nov 02:00 in London
    backup = heartbeat_create(client=tenant.client, name="Nightly backup", period_minutes=1440, grace_minutes=30)
    emails = heartbeat_create(client=tenant.client, name="Invoice emails")
    heartbeat_create(client=tenant.client, name="Quiet job")
    _ping(backup, "success", tuesday)
    deploy = Deploy.objects.create(client=tenant.client, version="v2.4.0", created=tuesday + timedelta(hours=3))
    start_job_checks(deploy)
    lateness.sweep(tuesday + timedelta(days=1, minutes=31))  # late on Wednesday
    _ping(backup, "success", tuesday + timedelta(days=1, hours=2))
    lateness.sweep(tuesday + timedelta(days=1, hours=2, seconds=10))
    _ping(emails, "fail", period.end - timedelta(hours=3))
    lateness.sweep(period.end - timedelta(hours=3) + timedelta(seconds=10))  # still failing when the week ends
    follow_job_checks(period.end)

    data = build_report(tenant.client, WEEK, now=period.end + timedelta(hours=9))
    by_name = [(j["name"], j["cause"], j["started"], j["duration"], j["ongoing"]) for j in data["jobs"]]
    assert by_name == [
        ("Nightly backup", "Late", "Wed 11 Nov 02:30", "1 h 30 min", False),
        # It ran once more on Wednesday and not since: late again from Thursday, still when the week ended.
        ("Nightly backup", "Late", "Thu 12 Nov 04:30", "4 d 4 h", True),  # so far, when the report is built
        ("Invoice emails", "Failed", "Sun 15 Nov 21:00", "12 h", True),
    ]
    [reported] = data["deploys"]
    # None pinged in its time after the deploy: the backup came late, the emails only days later, one never.
    assert sorted(reported["jobs_missed"]) == ["Invoice emails", "Nightly backup", "Quiet job"]
    rendered = render(data)
    for text in (rendered.text, rendered.html):
        assert "Background jobs late or failing" in text
        assert "Nightly backup" in text and "still failing" in text
        assert "Quiet job: not pinged since the deploy" in text
