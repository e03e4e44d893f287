"""Celery tasks for audits: thin; they fetch by id and call the engine and the risk services."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from celery import group, shared_task
from django.db import connections
from django.utils import timezone

from audits.engine import DEFAULT_DEADLINE, checks_for, run_audit
from audits.findings import Finding
from audits.models import AuditRun
from audits.risk import audit_run_finish, history_for, reap_stale_runs, record_findings
from audits.runs import audit_runs_start, domains_due_for_daily_audit
from audits.target import AuditTarget

log = logging.getLogger(__name__)

SOFT_LIMIT = int(DEFAULT_DEADLINE) + 30
HARD_LIMIT = int(DEFAULT_DEADLINE) + 60


def enqueue_group(run_ids: list[int]) -> None:
    group(run_audit_task.s(run_id) for run_id in run_ids).apply_async()


def _claim(run_id: int) -> AuditRun | None:
    """Move a queued run to running; only one worker wins, even when the task is delivered twice."""
    now = timezone.now()
    claimed = AuditRun.objects.filter(id=run_id, state=AuditRun.State.QUEUED).update(
        state=AuditRun.State.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        return None
    return AuditRun.objects.select_related("domain").get(id=run_id)


@shared_task(soft_time_limit=SOFT_LIMIT, time_limit=HARD_LIMIT, acks_late=True)
def run_audit_task(run_id: int) -> str:
    run = _claim(run_id)
    if run is None:
        return "not queued"
    try:
        execute(run)
    except Exception as exc:
        log.exception("audit run %s failed", run_id)
        has_findings = run.findings.exists()
        AuditRun.objects.filter(id=run.id).update(
            state=AuditRun.State.PARTIAL if has_findings else AuditRun.State.FAILED,
            reason=f"The audit stopped: {type(exc).__name__}.",
            finished_at=timezone.now(),
        )
        raise
    return "done"


def execute(run: AuditRun) -> AuditRun:
    """Run the audit of one run's domain, saving each check's findings as it completes."""
    target = AuditTarget.from_domain(run.domain)
    history = history_for(run)
    total = len(checks_for(target))
    AuditRun.objects.filter(id=run.id).update(checks_total=total)
    run.checks_total = total

    def saved(done: int, name: str, findings: list[Finding]) -> None:
        record_findings(run, findings, history)
        AuditRun.objects.filter(id=run.id).update(checks_done=done, current_check=name, heartbeat_at=timezone.now())

    # The event loop must not block on the database: saves go to one thread of their own, whose
    # connection is closed when the run ends.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-save")

    async def progress(done: int, total: int, name: str, findings: list[Finding]) -> None:
        await asyncio.get_running_loop().run_in_executor(writer, saved, done, name, findings)

    sprint_open = run.domain.client.sprints.current().exists()
    try:
        outcome = asyncio.run(run_audit(target, progress=progress, sprint_open=sprint_open))
    finally:
        writer.submit(connections.close_all).result()
        writer.shutdown()
    # Findings not tied to one check (deadline, TTL advice) are saved with the close of the run.
    record_findings(run, outcome.late_findings, history)
    return audit_run_finish(run, outcome, history)


@shared_task(soft_time_limit=60, time_limit=90)
def reap_stale_audit_runs() -> int:
    from audits.secrets.scans import reap_stale_scans

    return reap_stale_runs() + reap_stale_scans()


@shared_task(soft_time_limit=660, time_limit=720, acks_late=True)
def repo_scan_task(scan_id: int, key: str = "") -> str:
    from audits.secrets.scans import repo_scan_execute

    scan = repo_scan_execute(scan_id, key)
    return scan.state if scan is not None else "not queued"


@shared_task(soft_time_limit=60, time_limit=90)
def schedule_daily_audits() -> int:
    runs = audit_runs_start(domains=domains_due_for_daily_audit(), scheduled=True)
    return len(runs)
