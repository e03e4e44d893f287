"""Celery tasks of the weekly reports: thin; the schedule, mail and digest modules do the work."""

from __future__ import annotations

from celery import shared_task

from reports.digest import send_digests
from reports.mail import deliver, prepare
from reports.schedule import make_due_reports


# Both keep the names they had in handover.tasks, so that messages queued under them are still run.
@shared_task(name="handover.tasks.weekly_reports_due", soft_time_limit=120, time_limit=150, ignore_result=True)
def weekly_reports_due() -> int:
    """Every few minutes: make the rows of the reports that fell due and queue them."""
    ids = make_due_reports()
    prepare(ids)  # the facts of them all at once: each send then only renders and hands over
    for report_id in ids:
        send_weekly_report.delay(report_id)
    send_digests()  # the consultants who asked for the digest by email, Mondays from 08:00 UTC
    return len(ids)


@shared_task(
    name="handover.tasks.send_weekly_report",
    bind=True,
    soft_time_limit=90,
    time_limit=120,
    max_retries=3,
    acks_late=True,
)
def send_weekly_report(self, report_id: int) -> str:  # type: ignore[no-untyped-def]
    """Thin: the claim inside `deliver` makes a redelivered, retried or duplicated task harmless."""
    outcome = deliver(report_id)
    if outcome == "retry":
        raise self.retry(countdown=30 * (self.request.retries + 1))
    return outcome
