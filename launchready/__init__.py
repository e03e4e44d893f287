"""Launch Ready: audits, monitors and hands over founders' apps in 48-hour sprints."""

from launchready.celery import app as celery_app

__all__ = ["celery_app"]
