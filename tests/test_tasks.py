"""Every Celery task of the project is bounded in time, and keeps the name its queued messages carry."""

from __future__ import annotations

from launchready.celery import app

PROJECT_APPS = ("accounts.", "launchready.", "audits.", "monitoring.", "handover.", "reports.", "web.")

# A message in the broker names its task: a task that moves module keeps its name (`name=`), or the messages
# queued under the old one are discarded by the worker after a deploy. Change this list only with a plan for them.
TASK_NAMES = {
    "accounts.tasks.expire_invitations",
    "accounts.tasks.prune_activity",
    "accounts.tasks.send_invitation",
    "audits.tasks.look_up_dmarc_sources_task",
    "audits.tasks.prune_dmarc_reports",
    "audits.tasks.reap_stale_audit_runs",
    "audits.tasks.repo_scan_task",
    "audits.tasks.run_audit_task",
    "audits.tasks.schedule_daily_audits",
    "audits.tasks.verify_received_message_task",
    "audits.tasks.wipe_received_mail",
    "handover.tasks.notify_pack_published",
    "handover.tasks.send_weekly_report",
    "handover.tasks.weekly_reports_due",
    "monitoring.tasks.monitoring_heartbeats",
    "monitoring.tasks.journeys_tick",
    "monitoring.tasks.monitoring_prune",
    "monitoring.tasks.monitoring_reminders",
    "monitoring.tasks.monitoring_requeue_alerts",
    "monitoring.tasks.monitoring_rollup",
    "monitoring.tasks.monitoring_tick",
    "monitoring.tasks.monitoring_watches",
    "monitoring.tasks.send_alert_task",
    "monitoring.tasks.smoke_test_task",
}


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


def test_every_task_keeps_the_name_its_queued_messages_carry() -> None:
    app.loader.import_default_modules()
    assert {name for name in app.tasks if name.startswith(PROJECT_APPS)} == TASK_NAMES
