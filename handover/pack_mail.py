"""The email that tells a client's founders a new version of their handover pack is out: sent once per
version (claimed in the database before anything goes out), each founder a message of their own with the
link to that version."""

from __future__ import annotations

import contextlib
import logging
import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse
from django.utils import timezone

from accounts.selectors import founder_emails
from handover.models import PackVersion
from launchready.formatting import local_date
from launchready.plaintext import render_email_html, render_subject, render_text

log = logging.getLogger(__name__)


def founder_addresses(version: PackVersion) -> list[str]:
    return founder_emails(workspace_id=version.client.workspace_id, client_id=version.client_id)


def pack_context(version: PackVersion) -> dict[str, Any]:
    status = version.data.get("status", {})
    with timezone.override(version.client.timezone):
        published_on = local_date(version.published_at)
    return {
        "client": version.client.name,
        "consultancy": version.data.get("consultancy", version.client.workspace.name),
        "number": version.number,
        "note": version.note,
        "published_on": published_on,
        "status": status,
        "version_url": settings.SITE_URL + reverse("pack_version", args=[version.code]),
    }


def pack_messages(version: PackVersion, addresses: list[str]) -> list[EmailMultiAlternatives]:
    context = pack_context(version)
    subject = render_subject("email/pack_published-subject.txt", context)
    text = render_text("email/pack_published-body-text.txt", context)
    html = render_email_html("email/pack_published-body-html.html", context)
    messages = []
    for address in addresses:
        message = EmailMultiAlternatives(subject, text, to=[address], headers={"Auto-Submitted": "auto-generated"})
        message.attach_alternative(html, "text/html")
        messages.append(message)
    return messages


def notify_founders(version_id: int) -> str:
    """Email the founders about one published version, once: the claim is taken before connecting, given
    back when the mail server could not be reached (so a retry sends it), kept once anything was handed over."""
    claimed = PackVersion.objects.filter(id=version_id, founders_notified_at__isnull=True).update(
        founders_notified_at=timezone.now()
    )
    if not claimed:
        return "already sent"
    version = PackVersion.objects.select_related("client__workspace").get(id=version_id)
    addresses = founder_addresses(version)
    if not addresses:
        return "no founder"
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:
        PackVersion.objects.filter(id=version_id).update(founders_notified_at=None)
        log.warning("Pack v%s notice not sent, mail server unreachable: %s", version.number, type(exc).__name__)
        return "retry"
    try:
        connection.send_messages(pack_messages(version, addresses))
    except (OSError, smtplib.SMTPException) as exc:  # the server may have some of it: never sent twice
        log.error("Pack v%s notice failed while sending: %s", version.number, type(exc).__name__)
        return "failed"
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()
    return "sent"
