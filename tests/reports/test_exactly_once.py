"""Exactly once: two real worker processes, a scheduler whose beat fires again and again (as after a
restart) and tasks retried three times, all racing on the same week's reports: each reader of each
client gets one copy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from launchready.models import Client
from launchready.sandbox.smtp import SmtpSink
from reports.models import ReportSchedule, WeeklyReport
from reports.schedule import make_due_reports
from reports.tasks import send_weekly_report, weekly_reports_due
from tests.conftest import make_tenant, start_worker, stop_worker, wait_until


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_workers_a_restarted_beat_and_retries_send_one_copy_per_reader(smtp_sink: SmtpSink, worker) -> None:  # type: ignore[no-untyped-def]
    second = start_worker(smtp_sink, "second")
    try:
        tenants = [make_tenant() for _ in range(6)]
        Client.objects.update(created=datetime(2026, 1, 1, tzinfo=UTC))
        for t in tenants:  # due from the first minute of the week, whenever the test runs
            ReportSchedule.objects.create(client=t.client, weekday=0, hour=0)
        for _ in range(3):
            weekly_reports_due.delay()
        ids = make_due_reports()
        assert len(ids) == 6
        for _ in range(3):
            for report_id in ids:
                send_weekly_report.delay(report_id)

        assert wait_until(lambda: WeeklyReport.objects.filter(state="sent").count() == 6, timeout=60), list(
            WeeklyReport.objects.values_list("state", "error")
        )
        # A founder, the owner and a consultant per client: one copy each.
        smtp_sink.wait_for(18)
        # Give any duplicate the time to arrive: the queue holds 24 tasks and both workers drain it.
        assert not wait_until(lambda: len(smtp_sink.messages) > 18, timeout=8)
        for t in tenants:
            for reader in (t.founder, t.owner, t.consultant):
                [message] = smtp_sink.received_by(reader.email)
                assert t.client.name in message["Subject"]
                assert message["To"] == t.founder.email
                assert {a.strip() for a in message["Cc"].split(",")} == {t.owner.email, t.consultant.email}
                others = [o for o in tenants if o is not t]
                assert not any(o.client.name + " " in message.as_string() for o in others)
        assert WeeklyReport.objects.count() == 6
    finally:
        stop_worker(second)
