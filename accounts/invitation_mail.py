"""The invitation email: a fresh token for the link, and the message that carries it."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, hash_token
from launchready.plaintext import render_email_html, render_subject, render_text


def invitation_url(token: str) -> str:
    return settings.SITE_URL + reverse("invitation_accept", args=[token])


def invitation_send_email(invitation: Invitation) -> None:
    """Give the invitation a fresh token and email the link; the token is kept nowhere else."""
    token = Invitation.new_token()
    updated = Invitation.objects.filter(id=invitation.id, accepted_at__isnull=True, revoked_at__isnull=True).update(
        token_hash=hash_token(token), sent_at=timezone.now()
    )
    if updated != 1:
        return
    context = {
        "invitation": invitation,
        "url": invitation_url(token),
        "inviter": invitation.invited_by.get_full_name() if invitation.invited_by else "Your consultant",
    }
    subject = render_subject("accounts/email/invitation-subject.txt", context)
    text = render_text("accounts/email/invitation-body-text.txt", context)
    html = render_email_html("accounts/email/invitation-body-html.html", context)
    message = EmailMultiAlternatives(subject, text, to=[invitation.email])
    message.attach_alternative(html, "text/html")
    message.send()
