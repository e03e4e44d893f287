"""Small rules of English the screens, emails and exports share: possessives of names, and how long ago."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.timesince import timesince

JUST_NOW = timedelta(minutes=1)


def possessive(name: str) -> str:
    """ "Brightpath's", but "Ghost Labs'": a name ending in s takes the apostrophe alone."""
    name = str(name).rstrip()
    if not name:
        return name
    return f"{name}'" if name[-1] in "sS" else f"{name}'s"


def ago(then: datetime, now: datetime | None = None) -> str:
    """ "just now" under a minute (and for a moment a little ahead of this clock), else "5 minutes ago"."""
    now = now or timezone.now()
    if now - then < JUST_NOW:
        return "just now"
    return f"{timesince(then, now)} ago"
