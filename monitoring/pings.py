"""Heartbeat pings: the ping URL's secret (kept as a SHA-256 for the lookup and encrypted for the pages that
show the URL), finding a heartbeat by it, and recording a ping in one UPDATE of its row.

The secret is 144 random bits, so a plain SHA-256 is as good a lookup key as an HMAC and does not tie every
crontab line to SECRET_KEY: rotating that key breaks no ping URL."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F
from django.urls import reverse

from launchready.crypto import DecryptionError, decrypt, encrypt
from monitoring import client_status
from monitoring import heartbeat_schedule as schedule
from monitoring.models import Heartbeat

TOKEN_BYTES = 18  # 24 URL-safe characters
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
BODY_CHARS = 1000  # of a ping's body, kept to show on the page and in a failure's alert
BODY_READ = 4 * BODY_CHARS  # bytes read at most (UTF-8 takes up to four per character)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # tabs and newlines stay


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def seal_new_token(heartbeat: Heartbeat) -> str:
    """Give the heartbeat a new ping secret (not saved); returns it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    heartbeat.token_digest = token_digest(token)
    heartbeat.token_sealed = encrypt(token)
    return token


def ping_token(heartbeat: Heartbeat) -> str:
    """The ping secret, decrypted for the page that shows it; "" when no configured key can read it."""
    try:
        return decrypt(heartbeat.token_sealed)
    except DecryptionError:
        return ""


def ping_url(heartbeat: Heartbeat) -> str:
    """The URL the job calls when it succeeds (its /start and /fail variants add those words)."""
    token = ping_token(heartbeat)
    return f"{settings.SITE_URL}{reverse('heartbeat_ping', args=[token])}" if token else ""


def heartbeat_create(**fields: Any) -> Heartbeat:
    heartbeat = Heartbeat(**fields)
    seal_new_token(heartbeat)
    heartbeat.save()
    return heartbeat


def heartbeat_new_url(heartbeat: Heartbeat) -> None:
    """A new ping URL: the old one answers 404 from now on."""
    seal_new_token(heartbeat)
    Heartbeat.objects.filter(pk=heartbeat.pk).update(
        token_digest=heartbeat.token_digest, token_sealed=heartbeat.token_sealed
    )


def find(token: str) -> Heartbeat | None:
    """The heartbeat of a ping URL's secret, with its client (for the time zone): one indexed lookup."""
    if not TOKEN_SHAPE.match(token):
        return None
    return Heartbeat.objects.select_related("client").filter(token_digest=token_digest(token)).first()


def body_text(raw: bytes) -> str:
    """What is kept of a ping's body: text, control characters dropped, at most BODY_CHARS characters."""
    text = CONTROL.sub("", raw[:BODY_READ].decode("utf-8", errors="replace")).strip()
    return text[: BODY_CHARS - 1] + "…" if len(text) > BODY_CHARS else text


def record_ping(heartbeat: Heartbeat, kind: str, body: str, at: datetime) -> None:
    """One UPDATE of the heartbeat's row: the ping, the run time when a /start came before it, and when the
    lateness sweep should look at it next (at once after a failure it has not seen yet). And, when the ping
    changes what the client's status row counts the job as (a failure, or the ping that ends a lateness or a
    failure), the row's refresh; the other pings stay one write."""
    counted = client_status.job_state(heartbeat, at)
    unseen_failure = kind == Heartbeat.Ping.FAIL or heartbeat.failures > heartbeat.failures_seen
    fields: dict[str, Any] = {"last_ping_at": at, "last_ping_kind": kind, "last_body": body}
    if kind == Heartbeat.Ping.START:
        fields["started_at"] = at
    else:
        started = heartbeat.started_at
        fields["last_run_seconds"] = max((at - started).total_seconds(), 0.0) if started else None
        fields["started_at"] = None
        fields["last_success_at" if kind == Heartbeat.Ping.SUCCESS else "last_failure_at"] = at
    for name, value in fields.items():
        setattr(heartbeat, name, value)
    late = schedule.late_after(heartbeat, schedule.zone(heartbeat.client.timezone))
    fields["due_at"] = at if unseen_failure else late
    if kind == Heartbeat.Ping.FAIL:
        fields["failures"] = F("failures") + 1
    Heartbeat.objects.filter(pk=heartbeat.pk).update(**fields)
    if client_status.job_state(heartbeat, at) != counted:
        client_status.refresh_jobs([heartbeat.client_id])
