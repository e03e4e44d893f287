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


@register.filter
def counted(n: object, word: str) -> str:
    """`{{ s.stats.files|counted:"file" }}`: "1 file", "12,408 files"; a missing figure counts as none."""
    return formatting.plural(_whole(n), word)


@register.filter
def figure(n: object) -> str:
    """`{{ s.counts.high|figure }}`: "1,204", with thousands separators; a missing figure reads 0."""
    return f"{_whole(n):,}"


@register.filter
def file_size(n: object) -> str:
    """`{{ s.size|file_size }}`: "1,000 bytes", "3.0 MB"."""
    return formatting.file_size(_whole(n))


def _whole(n: object) -> int:
    try:
        return int(n)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0
