"""The workspace activity log: `record_activity` is the one way to write it, `activities_for` to read it."""

from __future__ import annotations

import ipaddress
import logging
from datetime import timedelta
from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Activity, Membership, User, Workspace

log = logging.getLogger(__name__)

# Every verb the log knows, with the words the owner reads. Other parts of the product add theirs here.
VERBS: dict[str, str] = {
    "auth.signed_in": "signed in",
    "mfa.enabled": "turned on two-factor authentication",
    "mfa.disabled": "turned off two-factor authentication",
    "workspace.mfa_required": "required two-factor authentication for everyone",
    "workspace.mfa_optional": "made two-factor authentication optional",
    "invitation.sent": "sent an invitation",
    "invitation.accepted": "accepted an invitation",
    "invitation.withdrawn": "withdrew an invitation",
    "member.removed": "removed a member",
    "export.downloaded": "downloaded an export",
    "token.created": "created an API token",
    "token.revoked": "revoked an API token",
    "channel.created": "added an alert channel",
    "channel.changed": "changed an alert channel",
    "channel.deleted": "deleted an alert channel",
    "journey.created": "created a journey",
    "journey.deleted": "deleted a journey",
    "journey.secret_set": "set a journey secret",
    "journey.secret_deleted": "deleted a journey secret",
    "client.deleted": "deleted a client",
    "assistant.configured": "configured the AI-assistant probe",
    "assistant.removed": "removed the AI-assistant probe",
    "pack.published": "published a handover pack",
}

TARGET_LENGTH = 200
# How long the log is kept: long enough for a yearly access review, not forever.
RETENTION = timedelta(days=400)


def network_of(address: str) -> str:
    """The address with its host part removed (IPv4 /24, IPv6 /48): enough to tell an office from a
    stranger, not enough to identify a person."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def describe(target: Any) -> str:
    """How an object is named in the log: its kind and the name the consultancy gave it, never a secret."""
    if target is None:
        return ""
    if isinstance(target, str):
        return target[:TARGET_LENGTH]
    if isinstance(target, models.Model):
        kind = str(target._meta.verbose_name).capitalize()
        name = getattr(target, "name", None) or getattr(target, "display_name", None) or ""
        return f"{kind}: {name}"[:TARGET_LENGTH] if name else kind
    return str(target)[:TARGET_LENGTH]


def record_activity(
    workspace: Workspace,
    actor: User | None,
    verb: str,
    target: Any = None,
    request: HttpRequest | None = None,
) -> Activity:
    """Write one line of the workspace's activity log. `target` is a model instance (named by its kind and
    name) or a short description; `request` gives the truncated address it came from."""
    if verb not in VERBS:
        raise ValueError(f"unknown activity verb {verb!r}: add it to accounts.activity.VERBS")
    user = actor if isinstance(actor, User) else None  # an anonymous visitor or the product itself: no actor
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    return Activity.objects.create(
        workspace=workspace,
        actor=user,
        actor_email=user.email if user is not None else "",
        verb=verb,
        target=describe(target),
        ip_network=network_of(address) if address else "",
    )


def record_for_every_workspace(user: User, verb: str, target: Any = None, request: HttpRequest | None = None) -> None:
    """A personal event (a sign-in, an MFA change) goes to each workspace the person belongs to."""
    workspace_ids = Membership.objects.filter(user=user).values_list("workspace_id", flat=True)
    for workspace in Workspace.objects.filter(id__in=workspace_ids):
        record_activity(workspace, user, verb, target, request)


def activities_for(workspace: Workspace, *, verb: str = "", actor: str = "") -> models.QuerySet[Activity]:
    """The workspace's log, newest first, optionally one kind of event or one person."""
    activities = Activity.objects.filter(workspace=workspace)
    if verb:
        activities = activities.filter(verb=verb) if verb in VERBS else activities.filter(verb__startswith=f"{verb}.")
    if actor:
        activities = activities.filter(actor_email=actor)
    return activities


def activity_prune(now: Any = None) -> int:
    """Delete log lines older than the retention; returns how many went."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _ = Activity.objects.filter(created__lt=cutoff).delete()
    return deleted
