"""Puts the active workspace and the user's other workspaces on every page."""

from typing import Any

from django.http import HttpRequest


def workspace(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    return {
        "membership": membership,
        "memberships": getattr(request, "memberships", []),
        "is_staff_member": bool(membership and membership.is_staff_role),
    }
