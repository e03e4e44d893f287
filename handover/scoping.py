"""The handover's objects a user may see, built from the core's scoping primitive: 404 for strangers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from handover.models import PackVersion
from handover.report_models import WeeklyReport
from launchready.tenancy import get_visible


def get_pack_version_for_user(user: Any, code: UUID) -> PackVersion:
    return get_visible(PackVersion.objects.select_related("client__workspace"), user, code, "client")


def get_report_for_user(user: Any, code: UUID) -> WeeklyReport:
    """A weekly report as sent: the client's founders and the consultancy may read it."""
    return get_visible(WeeklyReport.objects.select_related("client__workspace"), user, code, "client")
