"""The handover's objects a user may see, built from the core's scoping primitive: 404 for strangers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from handover.models import PackVersion
from launchready.tenancy import get_visible


def get_pack_version_for_user(user: Any, code: UUID) -> PackVersion:
    return get_visible(PackVersion.objects.select_related("client__workspace"), user, code, "client")
