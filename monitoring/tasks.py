"""Celery tasks for monitoring: thin; the scheduler module does the work."""

from __future__ import annotations

from celery import shared_task

from monitoring.scheduler import sync_monitors, tick


@shared_task(soft_time_limit=50, time_limit=58, ignore_result=True)
def monitoring_tick() -> int:
    """Runs every few seconds: probes every monitor that is due, all at once."""
    sync_monitors()
    return tick()
