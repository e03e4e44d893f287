"""Template helpers: the sprint countdown and Unicode domain names."""

from __future__ import annotations

from datetime import datetime

from django import template

from launchready.domains import shown_name
from launchready.formatting import Countdown, countdown
from launchready.models import Sprint

register = template.Library()


@register.simple_tag
def sprint_countdown(sprint: Sprint, now: datetime) -> Countdown:
    return countdown(sprint.started_at, sprint.deadline, now)


@register.filter
def unicode_domain(name: str) -> str:
    """A domain or host name as people read it, with its ASCII form beside it when it could deceive."""
    return shown_name(name)
