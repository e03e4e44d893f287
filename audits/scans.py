"""Starting a repository scan from an upload: the scan's row, its upload held for the worker, and the scan
enqueued once both are committed (audits/secrets/lifecycle.py holds the rest of its life); and what a scan says
to the CI that sent it (its verdict and its open findings, redacted as they are stored)."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import User
from audits.findings import Severity
from audits.models import OPEN, RepoScan
from audits.secrets.lifecycle import upload_hold
from audits.tasks import repo_scan_task
from launchready.models import Client


def display_name(name: str) -> str:
    """The uploaded file's own name, without any folder, for the consultant's reference."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable())[:200] or "upload"


def repo_scan_start(*, client: Client, upload: UploadedFile, kind: str, user: User | None) -> RepoScan:
    """Hold the upload until its scan ends and queue the scan once the rows are committed."""
    with transaction.atomic():
        scan = RepoScan.objects.create(
            client=client,
            filename=display_name(upload.name or ""),
            kind=kind,
            size=upload.size or 0,
            triggered_by=user,
        )
        key = upload_hold(scan, b"".join(upload.chunks()))
        transaction.on_commit(lambda: repo_scan_task.delay(scan.id, key))
    return scan


PENDING, PASSED, FAILED, ERROR = "pending", "passed", "failed", "error"


def scan_verdict(scan: RepoScan) -> str:
    """pending (queued or running), passed (no open blocker), failed (a blocker: a key to rotate, a committed
    .env file) or error (the upload could not be scanned; `reason` says why)."""
    if scan.state in (RepoScan.State.QUEUED, RepoScan.State.RUNNING):
        return PENDING
    if scan.state == RepoScan.State.FAILED:
        return ERROR
    return FAILED if scan.counts.get(Severity.BLOCKER.value, 0) else PASSED


def scan_summary(scan: RepoScan) -> dict[str, Any]:
    """The scan for its API: the verdict, the counts and the open findings, most urgent first."""
    verdict = scan_verdict(scan)
    summary: dict[str, Any] = {
        "scan": str(scan.code),
        "state": verdict,
        "file": scan.filename,
        "kind": scan.kind,
        "created": scan.created.isoformat(),
        "finished": scan.finished_at.isoformat() if scan.finished_at else None,
    }
    if verdict == ERROR:
        summary["reason"] = scan.reason
    if verdict in (PASSED, FAILED):
        summary["counts"] = {severity.value: scan.counts.get(severity.value, 0) for severity in Severity}
        summary["findings"] = [
            {
                "check_id": f.check_id,
                "severity": f.severity,
                "title": f.title,
                "fix": f.fix,
                "evidence": f.evidence,
                "change": f.change,
            }
            for f in scan.findings.filter(OPEN).order_by("rank", "id")
        ]
    return summary
