"""The audits' objects a user may see, built from the core's scoping primitive: 404 for strangers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from audits.models import AuditRun
from launchready.tenancy import get_visible


def get_audit_run_for_user(user: Any, code: UUID) -> AuditRun:
    return get_visible(AuditRun.objects.select_related("domain__client__workspace"), user, code, "domain__client")
