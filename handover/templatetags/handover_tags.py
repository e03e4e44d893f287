"""Template filters for the handover pack's Markdown export."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from launchready import markdown

register = template.Library()


@register.filter
def md_cell(value: object) -> SafeString:
    """A value inside a Markdown table cell: text, and no pipe or line break can split the row."""
    return SafeString(markdown.md_escape(value) or "—")  # escaped for Markdown, not HTML  # nosec B703


@register.filter
def md_text(value: object) -> SafeString:
    """Free text on one line, every character that could be Markdown or HTML taken literally."""
    return SafeString(markdown.md_escape(value))  # escaped for Markdown, not HTML  # nosec B703


register.filter("md_code", markdown.md_code)
register.filter("md_line", markdown.md_line)
