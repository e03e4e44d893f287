"""Filters every template has without loading them (settings: builtins): possessives, "how long ago"
and response times, each worded by launchready/formatting.py."""

from __future__ import annotations

from datetime import datetime

from django import template

from launchready import formatting

register = template.Library()


@register.filter
def possessive(name: object) -> str:
    """`{{ client.name|possessive }}`: "Brightpath's", "Ghost Labs'"; escaped like any text where autoescape is on."""
    return formatting.possessive(str(name))


@register.filter
def ago(then: datetime | None, now: datetime | None = None) -> str:
    """`{{ m.last_checked_at|ago }}` or `|ago:now`: "just now" under a minute, else "5 minutes ago"."""
    return formatting.ago(then, now) if then else ""


@register.filter
def latency(value: float | None) -> str:
    """`{{ row.p95_24h|latency }}`: "125 ms", "2.5 s" from a second on, "—" when nothing was measured."""
    return formatting.latency(value)
