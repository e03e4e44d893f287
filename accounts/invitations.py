"""Invitations: create one (its email is sent by a task), accept it, revoke it."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.activity import record_activity
from accounts.models import INVITATION_LIFETIME, Invitation, Membership, Role, User, Workspace, hash_token
from accounts.tasks import send_invitation
from launchready.models import Client


class InvitationError(Exception):
    """The invitation cannot be used; the message is shown to the person who followed the link."""


def invitation_create(
    *, workspace: Workspace, email: str, role: str, invited_by: User, client: Client | None = None
) -> Invitation:
    """Record an invitation and queue its email once the transaction commits."""
    if role == Role.FOUNDER and (client is None or client.workspace_id != workspace.id):
        raise ValueError("A founder invitation needs a client of the same workspace")
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=email.strip().lower(),
        role=role,
        client=client if role == Role.FOUNDER else None,
        invited_by=invited_by,
        # The link's token is made when the email is sent; until then no token works.
        token_hash=hash_token(Invitation.new_token()),
        expires=timezone.now() + INVITATION_LIFETIME,
    )
    record_activity(workspace, invited_by, "invitation.sent", invitation_label(invitation))
    transaction.on_commit(lambda: send_invitation.delay(invitation.id))
    return invitation


def invitation_for_token(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("workspace", "client", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invitation is None:
        raise InvitationError("This invitation link is not valid. Ask for a new one.")
    if invitation.revoked_at is not None:
        raise InvitationError("This invitation was withdrawn. Ask for a new one if you still need access.")
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation has already been used. Sign in to continue.")
    if invitation.expires <= timezone.now():
        raise InvitationError("This invitation has expired. Ask for a new one.")
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Join the workspace; claims the invitation with a conditional update so it is used once."""
    claimed = Invitation.objects.filter(
        id=invitation.id, accepted_at__isnull=True, revoked_at__isnull=True, expires__gt=timezone.now()
    ).update(accepted_at=timezone.now(), accepted_by=user)
    if claimed != 1:
        raise InvitationError("This invitation has already been used. Sign in to continue.")
    record_activity(invitation.workspace, user, "invitation.accepted", invitation_label(invitation))
    membership = Membership.objects.filter(user=user, workspace=invitation.workspace).first()
    if membership is None:
        return Membership.objects.create(
            user=user, workspace=invitation.workspace, role=invitation.role, client=invitation.client
        )
    if membership.role == Role.FOUNDER and invitation.role != Role.FOUNDER:
        # A founder who is invited as a colleague is promoted; a colleague is never demoted.
        membership.role, membership.client = invitation.role, None
        membership.save(update_fields=["role", "client"])
    elif membership.role == Role.FOUNDER and membership.client_id != invitation.client_id:
        raise InvitationError(
            "You already have founder access to another client in this workspace. "
            "Ask the consultant to invite you with a different email address."
        )
    return membership


def invitation_revoke(invitation: Invitation) -> None:
    Invitation.objects.filter(id=invitation.id, accepted_at__isnull=True).update(revoked_at=timezone.now())


def invitation_label(invitation: Invitation) -> str:
    """How the activity log names an invitation: the role and client, not the invitee's address."""
    role = invitation.get_role_display()
    return f"{role} invitation for {invitation.client.name}" if invitation.client else f"{role} invitation"
