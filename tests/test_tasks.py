"""Every Celery task of the project is bounded in time."""

from __future__ import annotations

from launchready.celery import app

PROJECT_APPS = ("accounts.", "launchready.", "audits.", "monitoring.", "handover.", "reports.")


def test_every_task_has_a_soft_and_a_hard_time_limit() -> None:
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if name.startswith(PROJECT_APPS)}
    assert "accounts.tasks.send_invitation" in ours
    for name, task in ours.items():
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        hard = task.time_limit or app.conf.task_time_limit
        assert soft and hard and soft < hard, name


def test_every_scheduled_task_exists() -> None:
    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks
