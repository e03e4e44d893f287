"""Celery tasks for audits: thin; each fetches its run or scan by id and calls its lifecycle."""

from __future__ import annotations

from celery import group, shared_task
from django.conf import settings
from django.db import transaction

from audits.engine import DEFAULT_DEADLINE
from audits.inbound.dmarc_store import dmarc_reports_prune
from audits.inbound.mailbox import messages_wipe_expired
from audits.inbound.source_hosts import sources_look_up
from audits.inbound.verification import received_message_verify
from audits.lifecycle import audit_run_perform, audit_runs_create, domains_due_for_daily_audit, reap_stale_runs
from audits.secrets.lifecycle import reap_stale_scans, repo_scan_execute

SOFT_LIMIT = int(DEFAULT_DEADLINE) + 30
HARD_LIMIT = int(DEFAULT_DEADLINE) + 60


def enqueue_group(run_ids: list[int]) -> None:
    if run_ids:
        group(run_audit_task.s(run_id) for run_id in run_ids).apply_async()


@shared_task(soft_time_limit=SOFT_LIMIT, time_limit=HARD_LIMIT, acks_late=True)
def run_audit_task(run_id: int) -> str:
    return "done" if audit_run_perform(run_id) is not None else "not queued"


@shared_task(soft_time_limit=60, time_limit=90)
def reap_stale_audit_runs() -> int:
    return reap_stale_runs() + reap_stale_scans()


@shared_task(soft_time_limit=660, time_limit=720, acks_late=True)
def repo_scan_task(scan_id: int, key: str = "") -> str:
    scan = repo_scan_execute(scan_id, key)
    return scan.state if scan is not None else "not queued"


@shared_task(soft_time_limit=60, time_limit=90)
def schedule_daily_audits() -> int:
    # Started here rather than through audits/runs.py, which enqueues through this module.
    ids = [run.id for run in audit_runs_create(domains=domains_due_for_daily_audit(), scheduled=True)]
    transaction.on_commit(lambda: enqueue_group(ids))
    return len(ids)


@shared_task(soft_time_limit=60, time_limit=90, acks_late=True)
def verify_received_message_task(message_id: int) -> str:
    return "verified" if received_message_verify(message_id) is not None else "nothing to verify"


@shared_task(soft_time_limit=60, time_limit=90)
def wipe_received_mail() -> int:
    return messages_wipe_expired()


@shared_task(soft_time_limit=240, time_limit=300)
def prune_dmarc_reports() -> dict[str, int]:
    pruned = dmarc_reports_prune(settings.DMARC_REPORT_RETENTION_DAYS)
    return {"reports": pruned.reports, "sources": pruned.sources, "emails": pruned.emails}


@shared_task(soft_time_limit=60, time_limit=90)
def look_up_dmarc_sources_task(client_id: int) -> int:
    return sources_look_up(client_id)
