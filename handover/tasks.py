"""Celery tasks of the handover app: thin; the report modules do the work."""

from __future__ import annotations

from celery import shared_task


@shared_task(soft_time_limit=120, time_limit=150, ignore_result=True)
def weekly_reports_due() -> int:
    """Every few minutes: make the rows of the reports that fell due and queue them."""
    from handover.report_digest import send_digests
    from handover.report_mail import prepare
    from handover.report_schedule import make_due_reports

    ids = make_due_reports()
    prepare(ids)  # the facts of them all at once: each send then only renders and hands over
    for report_id in ids:
        send_weekly_report.delay(report_id)
    send_digests()  # the consultants who asked for the digest by email, Mondays from 08:00 UTC
    return len(ids)


@shared_task(bind=True, soft_time_limit=90, time_limit=120, max_retries=3, acks_late=True)
def send_weekly_report(self, report_id: int) -> str:  # type: ignore[no-untyped-def]
    """Thin: the claim inside `deliver` makes a redelivered, retried or duplicated task harmless."""
    from handover.report_mail import deliver

    outcome = deliver(report_id)
    if outcome == "retry":
        raise self.retry(countdown=30 * (self.request.retries + 1))
    return outcome


@shared_task(bind=True, soft_time_limit=60, time_limit=90, max_retries=5, acks_late=True)
def notify_pack_published(self, version_id: int) -> str:  # type: ignore[no-untyped-def]
    """Thin: the claim inside `notify_founders` makes a redelivered or duplicated task harmless."""
    from handover.pack_mail import notify_founders

    outcome = notify_founders(version_id)
    if outcome == "retry":
        raise self.retry(countdown=60 * (self.request.retries + 1))
    return outcome
