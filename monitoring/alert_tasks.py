"""The Celery task that sends one alert: thin, and below the queueing in alerts.py that enqueues it."""

from __future__ import annotations

from celery import shared_task

from monitoring.delivery import alert_send


# Named as it was when it lived in monitoring.tasks, so that alerts queued under that name are still sent.
@shared_task(
    name="monitoring.tasks.send_alert_task", bind=True, soft_time_limit=30, time_limit=45, max_retries=3, acks_late=True
)
def send_alert_task(self, alert_id: int) -> str:  # type: ignore[no-untyped-def]
    """Thin: the claim inside `alert_send` makes a redelivered or retried task harmless."""
    outcome = alert_send(alert_id=alert_id)
    if outcome == "retry":
        raise self.retry(countdown=10 * (self.request.retries + 1))
    return outcome
