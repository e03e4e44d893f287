"""Celery tasks for monitoring: the beat's entry points and the post-deploy smoke test, each thin. The task
that sends one alert is in alert_tasks.py, below the queueing that these tasks' work ends in."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from monitoring import deploy_latency, journey_rollup, journey_scheduler, lateness
from monitoring.charts import BAR_DAYS, LINE_HOURS
from monitoring.models import Deploy
from monitoring.reminders import send_reminders
from monitoring.requeue import requeue_lost_alerts
from monitoring.rollup import note_tick, prune, rollup_day, rollup_hour
from monitoring.scheduler import sync_monitors, tick
from monitoring.series import settle as settle_charts
from monitoring.smoke import follow_job_checks, smoke_test
from monitoring.summary import settle as settle_uptime
from monitoring.watches import watch_certificates, watch_drift, watch_p95


@shared_task(soft_time_limit=50, time_limit=58, ignore_result=True)
def monitoring_tick() -> int:
    """Runs every few seconds: probes every monitor that is due, all at once."""
    note_tick(timezone.now())
    sync_monitors()
    # Claim what falls due before the next beat too, and probe each on its due second.
    return tick(lookahead=settings.MONITORING_TICK_SECONDS)


@shared_task(soft_time_limit=100, time_limit=110, ignore_result=True)
def journeys_tick() -> int:
    """Runs every few seconds: every journey that is due or falls due before the next beat, each started on
    its due second (and bounded by its own deadline)."""
    return journey_scheduler.tick(lookahead=settings.JOURNEYS_TICK_SECONDS)


@shared_task(soft_time_limit=240, time_limit=280, ignore_result=True)
def monitoring_rollup() -> None:
    """Every few minutes: this hour and the last one, today and yesterday, rebuilt from what is stored; the
    cached history of the charts and the overview extended by what settled since."""
    now = timezone.now()
    for hour in (now - timedelta(hours=1), now):
        rollup_hour(hour)
    for day in (now - timedelta(days=1), now):
        rollup_day(day)
    # What settled (an hour, once an hour; a day, once a day) goes into the charts' and overview's caches now,
    # rather than on the next visit of each client's pages.
    settle_charts(now, BAR_DAYS, LINE_HOURS)
    settle_uptime(now)
    # The deploys whose hour after is over keep their p95 figures before the raw probes are pruned.
    deploy_latency.settle(now)


@shared_task(soft_time_limit=240, time_limit=280, ignore_result=True)
def monitoring_prune() -> dict[str, int]:
    return {**prune(), **journey_rollup.prune()}


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def smoke_test_task(deploy_id: int) -> str:
    deploy = Deploy.objects.select_related("client").filter(id=deploy_id, smoke=Deploy.Smoke.PENDING).first()
    if deploy is None:
        return "gone or done"
    return smoke_test(deploy).smoke


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def monitoring_reminders() -> int:
    return send_reminders()


@shared_task(soft_time_limit=240, time_limit=280, ignore_result=True)
def monitoring_watches() -> dict[str, int]:
    return {"certificates": watch_certificates(), "drift": watch_drift(), "p95": watch_p95()}


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def monitoring_requeue_alerts() -> int:
    return requeue_lost_alerts()


@shared_task(soft_time_limit=12, time_limit=14, ignore_result=True)
def monitoring_heartbeats() -> dict[str, int]:
    """Every few seconds: heartbeats late or failing alerted, returns told, deploys' job checks settled."""
    return {**lateness.sweep(), "job_checks": follow_job_checks()}
