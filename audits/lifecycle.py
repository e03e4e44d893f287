"""An audit run's life, as plain functions: created queued, claimed by one worker, executed (each check's
findings saved as it completes), finished with its change since the last run and its go/no-go, and reaped
if its worker stops. The Celery tasks call these; nothing here knows about Celery."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.db import connections, transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import User
from audits import client_status
from audits.catalog import verdict_of
from audits.engine import AuditOutcome, checks_for, ids_of, run_audit
from audits.findings import Finding, LaunchVerdict, Severity
from audits.models import OPEN, AuditFinding, AuditRun
from audits.recording import History, fixed_copy, recorded
from audits.target import AuditTarget
from launchready import status
from launchready.models import Domain

log = logging.getLogger(__name__)

Change = AuditFinding.Change
DAILY = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=5)
QUEUED_TOO_LONG = timedelta(hours=6)  # a long daily backlog is still worked through, not thrown away


def audit_runs_create(*, domains: list[Domain], user: User | None = None, scheduled: bool = False) -> list[AuditRun]:
    """A queued run for each domain, skipping those already being audited; the runs started together share a
    group. The caller enqueues them once they are committed."""
    with transaction.atomic(), status.batched():  # each client's status row refreshed once, not once per run
        # Lock the domains: a double click, or the daily schedule firing at the same moment, must not
        # start two audits of one domain.
        list(Domain.objects.select_for_update().filter(id__in=[d.id for d in domains]).values_list("id", flat=True))
        busy = set(AuditRun.objects.active().filter(domain__in=domains).values_list("domain_id", flat=True))
        group = uuid.uuid4()
        return [
            AuditRun.objects.create(domain=domain, group=group, triggered_by=user, scheduled=scheduled)
            for domain in domains
            if domain.id not in busy
        ]


def domains_due_for_daily_audit(now: datetime | None = None) -> list[Domain]:
    now = now or timezone.now()
    return list(
        Domain.objects.filter(daily_audit=True)
        .annotate(last=Max("audit_runs__created"))
        .filter(Q(last__isnull=True) | Q(last__lt=now - DAILY))
    )


def audit_run_claim(run_id: int) -> AuditRun | None:
    """Move a queued run to running; only one worker wins, even when the task is delivered twice."""
    now = timezone.now()
    claimed = AuditRun.objects.filter(id=run_id, state=AuditRun.State.QUEUED).update(
        state=AuditRun.State.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        return None
    return AuditRun.objects.select_related("domain").get(id=run_id)


def audit_run_perform(run_id: int) -> AuditRun | None:
    """Claim a queued run and execute it (None when it was not queued). An unexpected error ends the run,
    partial if it had found something and failed otherwise, and is raised again."""
    run = audit_run_claim(run_id)
    if run is None:
        return None
    try:
        return audit_run_execute(run)
    except Exception as exc:
        log.exception("audit run %s failed", run_id)
        has_findings = run.findings.exists()
        AuditRun.objects.filter(id=run.id).update(
            state=AuditRun.State.PARTIAL if has_findings else AuditRun.State.FAILED,
            reason=f"The audit stopped: {type(exc).__name__}.",
            finished_at=timezone.now(),
        )
        client_status.refresh_for_domains([run.domain_id])
        raise


def audit_run_execute(run: AuditRun) -> AuditRun:
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


def previous_run(run: AuditRun) -> AuditRun | None:
    return (
        AuditRun.objects.finished()
        .filter(domain_id=run.domain_id, created__lt=run.created)
        .order_by("-created")
        .first()
    )


def history_for(run: AuditRun) -> History:
    before = previous_run(run)
    previous = set(before.findings.filter(OPEN).values_list("check_id", "subject")) if before is not None else set()
    ever = set(
        AuditFinding.objects.filter(run__domain_id=run.domain_id, run__created__lt=run.created)
        .filter(OPEN)
        .values_list("check_id", "subject")
        .distinct()
    )
    return History(previous, ever)


def record_findings(run: AuditRun, findings: list[Finding], history: History) -> None:
    """Save findings as their check completes, so a run cut short keeps what it had found."""
    apex = run.domain.name
    AuditFinding.objects.bulk_create([recorded(AuditFinding, f, history, apex, run=run) for f in findings])


@transaction.atomic
def audit_run_finish(run: AuditRun, outcome: AuditOutcome, history: History) -> AuditRun:
    """Close a run: add the findings that were fixed since the last run, counts, go/no-go."""
    current = set(run.findings.values_list("check_id", "subject"))
    before = previous_run(run)
    if before is not None:
        # A check that failed or ran out of time proves nothing fixed: its earlier findings stay open.
        unproven = ids_of(outcome.failed_checks + outcome.timed_out_checks)
        # Under one diagnosis (the domain does not exist…) the earlier findings are neither fixed nor open:
        # the diagnosis stands for them.
        gone = [f for f in before.findings.filter(OPEN) if (f.check_id, f.subject) not in current]
        gone = [] if outcome.folded else gone
        AuditFinding.objects.bulk_create(
            [
                fixed_copy(AuditFinding, f, Change.STILL_OPEN if f.check_id in unproven else Change.FIXED, run=run)
                for f in gone
            ]
        )
    open_findings = list(run.findings.filter(OPEN).values_list("check_id", "severity"))
    run.counts = dict(Counter(severity for _, severity in open_findings))
    verdict = verdict_of(open_findings)
    if verdict == LaunchVerdict.GO and outcome.partial:
        verdict = LaunchVerdict.UNCHECKED
    run.verdict = verdict.value
    run.go = verdict == LaunchVerdict.GO
    run.inventory = [{"name": r.name, "type": r.rdtype, "value": r.value, "ttl": r.ttl} for r in outcome.inventory]
    run.state = AuditRun.State.PARTIAL if outcome.partial else AuditRun.State.DONE
    run.reason = _partial_reason(outcome)
    run.finished_at = timezone.now()
    run.seconds = outcome.seconds
    run.dns_queries = outcome.dns_queries
    run.checks_done = run.checks_total
    run.current_check = ""
    run.save()
    return run


def _partial_reason(outcome: AuditOutcome) -> str:
    parts = []
    if outcome.failed_checks:
        parts.append(f"checks that failed: {', '.join(outcome.failed_checks)}")
    if outcome.timed_out_checks:
        parts.append(f"checks cut off by the deadline: {', '.join(outcome.timed_out_checks)}")
    return "; ".join(parts)


def reap_stale_runs(now: datetime | None = None) -> int:
    """End runs whose worker stopped: partial if they had found something, failed otherwise. Never 'running'."""
    now = now or timezone.now()
    stale = AuditRun.objects.active().filter(heartbeat_at__lt=now - STALE_AFTER) | AuditRun.objects.filter(
        state=AuditRun.State.QUEUED, heartbeat_at__isnull=True, created__lt=now - QUEUED_TOO_LONG
    )
    ended = 0
    for run in stale:
        has_findings = run.findings.exists()
        state = AuditRun.State.PARTIAL if has_findings else AuditRun.State.FAILED
        # Cut short: a blocker seen is still a no-go; otherwise nobody can say go.
        blocker = run.findings.filter(OPEN, severity=Severity.BLOCKER.value).exists()
        verdict = "" if not has_findings else (LaunchVerdict.NO_GO if blocker else LaunchVerdict.UNCHECKED).value
        reason = (
            f"The worker stopped during the audit, after {run.checks_done} of {run.checks_total} checks."
            if run.state == AuditRun.State.RUNNING
            else "The audit never started: no worker picked it up within six hours."
        )
        ended += AuditRun.objects.filter(pk=run.pk, state=run.state).update(
            state=state, reason=reason, finished_at=now, go=None if not has_findings else False, verdict=verdict
        )
        client_status.refresh_for_domains([run.domain_id])
    return ended
