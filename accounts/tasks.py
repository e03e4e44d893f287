"""Background work for accounts: invitation emails and housekeeping."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from accounts.activity import activity_prune
from accounts.invitation_mail import invitation_send_email
from accounts.models import Invitation

log = logging.getLogger(__name__)


@shared_task(soft_time_limit=30, time_limit=45, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation(invitation_id: int) -> None:
    invitation = Invitation.objects.select_related("workspace", "client", "invited_by").filter(id=invitation_id).first()
    if invitation is None or not invitation.is_pending:
        log.info("invitation %s is gone or no longer pending; not sending", invitation_id)
        return
    invitation_send_email(invitation)
    log.info("invitation %s sent", invitation_id)


@shared_task(soft_time_limit=60, time_limit=90)
def expire_invitations() -> int:
    """Delete invitations that expired more than 30 days ago; they only clutter the members page."""
    cutoff = timezone.now() - timedelta(days=30)
    deleted, _ = Invitation.objects.filter(accepted_at__isnull=True, expires__lt=cutoff).delete()
    return deleted


@shared_task(soft_time_limit=120, time_limit=180)
def prune_activity() -> int:
    return activity_prune()
