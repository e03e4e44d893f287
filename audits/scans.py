"""Starting a repository scan from an upload: the scan's row, its upload held for the worker, and the scan
enqueued once both are committed (audits/secrets/lifecycle.py holds the rest of its life)."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import User
from audits.models import RepoScan
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
