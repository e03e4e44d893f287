"""A repository scan's life, as plain functions: its upload held encrypted until a worker claims the scan,
scanned, its findings recorded with their change since the client's previous scan, and the upload deleted
when it ends, whatever the outcome; scans whose worker stopped are reaped. No client source is kept.

The upload waits for its worker in the database (any worker machine can read it there), encrypted with a
key of its own that only the scan's task message carries. Once the scan ends the ciphertext is deleted and
the message is gone with the key, so a database backup taken in between holds nothing readable."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from cryptography.fernet import Fernet, InvalidToken
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audits.findings import Finding
from audits.models import OPEN, KeyRotation, RecordedFinding, RepoFinding, RepoScan, RepoUpload
from audits.recording import History, fixed_copy, recorded
from audits.secrets.archive import ArchiveError, Limits
from audits.secrets.repo import scan_upload
from audits.secrets.rotation import LEAKED_UNTIL_ROTATED, NO_LONGER_SEEN, open_counts, rotated_on, still_in_code
from launchready.formatting import plural

log = logging.getLogger(__name__)

Change = RecordedFinding.Change
LIMITS = Limits()
RUNNING_TOO_LONG = timedelta(minutes=15)  # past the task's hard time limit: its worker is gone
QUEUED_TOO_LONG = timedelta(hours=6)
NOTHING_READ = "The upload held no file that could be read."


def nothing_read(stats: Mapping[str, int]) -> str:
    """Why a scan that read no file could not check anything: what the upload held instead, when it held something."""
    held = []
    if stats.get("skipped_large"):
        held.append(f"{plural(stats['skipped_large'], 'file')} over the {LIMITS.file_bytes >> 20} MB a file may have")
    if stats.get("skipped_links"):
        held.append(f"{plural(stats['skipped_links'], 'link')} (links are never followed)")
    if not held:
        return NOTHING_READ
    return f"The upload held no file that could be read: only {' and '.join(held)}, skipped."


def upload_hold(scan: RepoScan, data: bytes) -> str:
    """Store the upload encrypted with a fresh key; the key is returned for the task message, never stored."""
    key = Fernet.generate_key()
    RepoUpload.objects.create(scan=scan, data=Fernet(key).encrypt(data))
    return key.decode()


def _upload_read(scan_id: int, key: str) -> bytes:
    token = RepoUpload.objects.filter(scan_id=scan_id).values_list("data", flat=True).first()
    if token is None:
        raise ArchiveError("The uploaded file was no longer there; upload the repository again.")
    try:
        return Fernet(key.encode()).decrypt(bytes(token))
    except (InvalidToken, ValueError):
        raise ArchiveError("The uploaded file could not be read back; upload the repository again.") from None


def repo_scan_execute(scan_id: int, key: str) -> RepoScan | None:
    """Claim a queued scan (only one worker wins), scan its upload, record the findings; the upload is deleted
    in every case. A reason is recorded for every failure; no exception leaves with client data in it."""
    claimed = RepoScan.objects.filter(id=scan_id, state=RepoScan.State.QUEUED).update(
        state=RepoScan.State.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    scan = RepoScan.objects.get(id=scan_id)
    try:
        with tempfile.TemporaryDirectory(prefix="lr-upload-") as tmp:
            path = Path(tmp) / "upload"
            path.write_bytes(_upload_read(scan_id, key))
            report = scan_upload(path, LIMITS)
        if not report.stats.get("files") and not report.stats.get("blobs"):
            # Nothing read proves nothing: the scan fails rather than passing, and closes no finding.
            return _fail(scan, nothing_read(report.stats))
        return repo_scan_finish(scan, report.findings, report.stats)
    except ArchiveError as exc:
        return _fail(scan, str(exc))
    except SoftTimeLimitExceeded:
        return _fail(scan, "The scan took too long and was stopped.")
    except Exception as exc:
        # Only the kind of error is logged: a library's message could quote the client's files.
        log.error("repository scan %s failed: %s", scan_id, type(exc).__name__)
        return _fail(scan, "The scan stopped on an unexpected error; upload the repository again.")
    finally:
        RepoUpload.objects.filter(scan_id=scan_id).delete()


@transaction.atomic
def repo_scan_finish(scan: RepoScan, findings: list[Finding], stats: dict[str, int]) -> RepoScan:
    """Record a repository scan's findings with their change since the client's previous scan, and close it."""
    earlier = RepoScan.objects.finished().filter(client_id=scan.client_id, created__lt=scan.created)
    before = earlier.order_by("-created").first()
    previous = set(before.findings.filter(OPEN).values_list("check_id", "subject")) if before is not None else set()
    ever = set(RepoFinding.objects.filter(scan__in=earlier).filter(OPEN).values_list("check_id", "subject"))
    history = History(previous, ever)
    rows = [recorded(RepoFinding, finding, history, scan=scan) for finding in findings]
    marks = {r.subject: r for r in KeyRotation.objects.filter(client_id=scan.client_id)}
    # The previous scan's open findings, and the keys it held closed by a mark.
    carried = OPEN | Q(check_id__in=LEAKED_UNTIL_ROTATED, evidence__has_key="rotated")
    before_rows = {(f.check_id, f.subject): f for f in before.findings.filter(carried)} if before is not None else {}
    for row in rows:
        if row.check_id in LEAKED_UNTIL_ROTATED and row.subject in marks:
            # Marked rotated, yet the same key is still in the code: it stays open.
            if (row.check_id, row.subject) in before_rows:
                row.change = Change.STILL_OPEN
            row.evidence = dict(row.evidence) | {"now": still_in_code(marks[row.subject])}
    current = {(row.check_id, row.subject) for row in rows}
    gone = [f for key, f in before_rows.items() if key not in current]
    rows += [_carried(f, scan, marks.get(f.subject)) for f in gone]
    RepoFinding.objects.bulk_create(rows)
    scan.counts = open_counts(rows)
    scan.stats = stats
    scan.state = RepoScan.State.DONE
    scan.finished_at = timezone.now()
    scan.save(update_fields=["counts", "stats", "state", "finished_at"])
    return scan


def _carried(f: RepoFinding, scan: RepoScan, mark: KeyRotation | None) -> RepoFinding:
    """An earlier finding this scan no longer sees: fixed, but a committed key stays open (whoever copied the
    repository still holds it) with a note that it is no longer in the code, unless it was marked rotated."""
    if f.check_id not in LEAKED_UNTIL_ROTATED:
        return fixed_copy(RepoFinding, f, Change.FIXED, scan=scan)
    if mark is not None:
        row = fixed_copy(RepoFinding, f, Change.FIXED, scan=scan)
        evidence = {k: v for k, v in dict(row.evidence).items() if k != "rotated"}
        row.evidence = evidence | {"now": rotated_on(mark)}
        return row
    row = fixed_copy(RepoFinding, f, Change.STILL_OPEN, scan=scan)
    row.evidence = dict(row.evidence) | {"now": NO_LONGER_SEEN}
    return row


def _fail(scan: RepoScan, reason: str) -> RepoScan:
    RepoScan.objects.filter(id=scan.id).update(state=RepoScan.State.FAILED, reason=reason, finished_at=timezone.now())
    scan.refresh_from_db()
    return scan


def reap_stale_scans(now: datetime | None = None) -> int:
    """End scans whose worker stopped (or that no worker picked up), and delete their uploads."""
    now = now or timezone.now()
    stale = list(
        RepoScan.objects.filter(state=RepoScan.State.RUNNING, started_at__lt=now - RUNNING_TOO_LONG).values_list(
            "id", flat=True
        )
    )
    lost = list(
        RepoScan.objects.filter(state=RepoScan.State.QUEUED, created__lt=now - QUEUED_TOO_LONG).values_list(
            "id", flat=True
        )
    )
    ended = RepoScan.objects.filter(id__in=stale, state=RepoScan.State.RUNNING).update(
        state=RepoScan.State.FAILED,
        reason="The worker stopped during the scan; upload the repository again.",
        finished_at=now,
    )
    ended += RepoScan.objects.filter(id__in=lost, state=RepoScan.State.QUEUED).update(
        state=RepoScan.State.FAILED, reason="No worker picked the scan up within six hours.", finished_at=now
    )
    RepoUpload.objects.filter(scan_id__in=stale + lost).delete()
    return ended
