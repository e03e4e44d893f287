"""The audits' objects a user may see, built from the core's scoping primitive: 404 for strangers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from audits.models import AuditRun, RepoScan
from launchready.models import Client
from launchready.tenancy import get_visible


def get_audit_run_for_user(user: Any, code: UUID) -> AuditRun:
    return get_visible(AuditRun.objects.select_related("domain__client__workspace"), user, code, "domain__client")


def get_repo_scan_for_client(client: Client, code: UUID) -> RepoScan | None:
    """A repository scan of this client (the client a token belongs to), or None: another client's is unseen."""
    return RepoScan.objects.filter(client=client, code=code).first()
