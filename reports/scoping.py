"""The weekly reports a user may see, built from the core's scoping primitive: 404 for strangers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from launchready.tenancy import get_visible
from reports.models import WeeklyReport


def get_report_for_user(user: Any, code: UUID) -> WeeklyReport:
    """A weekly report as sent: the client's founders and the consultancy may read it."""
    return get_visible(WeeklyReport.objects.select_related("client__workspace"), user, code, "client")
