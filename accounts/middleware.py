"""Finds the signed-in user's active workspace and enforces its two-factor rule."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.models import Membership

SESSION_KEY = "workspace"
# Paths a member who still has to set up two-factor authentication may reach.
MFA_SETUP_ALLOWED = ("/accounts/", "/static/", "/healthz", "/invitations/")
# Paths that never need the workspace: passed by before the session is read (a job's ping must not load one,
# even when a browser with a session cookie opens its URL).
NO_WORKSPACE = ("/static/", "/healthz", "/ping/")


def active_membership(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
    wanted = request.session.get(SESSION_KEY)
    for membership in memberships:
        if str(membership.workspace.code) == wanted:
            return membership
    return memberships[0] if memberships else None


class WorkspaceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.memberships = []  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        if request.path.startswith(NO_WORKSPACE):
            return self.get_response(request)
        user = request.user
        if user.is_authenticated:
            memberships = list(
                Membership.objects.filter(user=user).select_related("workspace", "client").order_by("workspace__name")
            )
            membership = active_membership(request, memberships)
            request.memberships = memberships  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            # Any workspace that requires it applies everywhere: switching workspace must not skip it.
            if (
                any(m.workspace.require_mfa for m in memberships)
                and not request.path.startswith(MFA_SETUP_ALLOWED)
                and not is_mfa_enabled(user)
            ):
                return redirect("mfa_activate_totp")
        return self.get_response(request)
