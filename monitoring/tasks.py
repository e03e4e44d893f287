"""Celery tasks for monitoring: thin; the scheduler module does the work."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from monitoring.alerts import send
from monitoring.rollup import note_tick, prune, rollup_day, rollup_hour
from monitoring.scheduler import sync_monitors, tick


@shared_task(soft_time_limit=50, time_limit=58, ignore_result=True)
def monitoring_tick() -> int:
    """Runs every few seconds: probes every monitor that is due, all at once."""
    note_tick(timezone.now())
    sync_monitors()
    # Claim what falls due before the next beat too, and probe each on its due second.
    return tick(lookahead=settings.MONITORING_TICK_SECONDS)


@shared_task(soft_time_limit=240, time_limit=280, ignore_result=True)
def monitoring_rollup() -> None:
    """Every few minutes: this hour and the last one, today and yesterday, rebuilt from what is stored."""
    now = timezone.now()
    for hour in (now - timedelta(hours=1), now):
        rollup_hour(hour)
    for day in (now - timedelta(days=1), now):
        rollup_day(day)


@shared_task(soft_time_limit=240, time_limit=280, ignore_result=True)
def monitoring_prune() -> dict[str, int]:
    return prune()


@shared_task(bind=True, soft_time_limit=30, time_limit=45, max_retries=3, acks_late=True)
def send_alert_task(self, alert_id: int) -> str:  # type: ignore[no-untyped-def]
    """Thin: the claim inside `send` makes a redelivered or retried task harmless."""
    outcome = send(alert_id)
    if outcome == "retry":
        raise self.retry(countdown=10 * (self.request.retries + 1))
    return outcome


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def smoke_test_task(deploy_id: int) -> str:
    from monitoring.deploys import smoke_test
    from monitoring.models import Deploy

    deploy = Deploy.objects.select_related("client").filter(id=deploy_id, smoke=Deploy.Smoke.PENDING).first()
    if deploy is None:
        return "gone or done"
    return smoke_test(deploy).smoke


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def monitoring_reminders() -> int:
    from monitoring.alerts import send_reminders

    return send_reminders()


@shared_task(soft_time_limit=240, time_limit=280, ignore_result=True)
def monitoring_watches() -> dict[str, int]:
    from monitoring.watches import watch_certificates, watch_drift, watch_p95

    return {"certificates": watch_certificates(), "drift": watch_drift(), "p95": watch_p95()}


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def monitoring_requeue_alerts() -> int:
    from monitoring.alerts import requeue_lost_alerts

    return requeue_lost_alerts()
