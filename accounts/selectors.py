"""What other apps read of the accounts: who owns a workspace, who founds a client, who may be written to."""

from __future__ import annotations

from uuid import UUID

from accounts.models import Membership, Role


def workspace_owner(*, workspace_id: int) -> Membership | None:
    return Membership.objects.filter(workspace_id=workspace_id, role=Role.OWNER).select_related("user").first()


def founder_emails(*, workspace_id: int, client_id: int) -> list[str]:
    """The addresses of a client's active founders, lowercased, each once."""
    rows = Membership.objects.filter(
        workspace_id=workspace_id, role=Role.FOUNDER, client_id=client_id, user__is_active=True
    ).values_list("user__email", flat=True)
    return sorted({email.lower() for email in rows if email})


def active_member_emails(*, workspace_id: int) -> list[tuple[str, int | None, str]]:
    """(role, founder's client id, lowercased address) of each active member of a workspace with an address."""
    rows = Membership.objects.filter(workspace_id=workspace_id, user__is_active=True).values_list(
        "role", "client_id", "user__email"
    )
    return [(role, client_id, email.lower()) for role, client_id, email in rows if email]


def membership_by_code(*, code: UUID) -> Membership | None:
    return Membership.objects.filter(code=code).select_related("workspace", "user").first()
