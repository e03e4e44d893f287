"""Template filters for the handover pack's Markdown export."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def md_cell(value: object) -> str:
    """A value safe inside a Markdown table cell: no pipe or line break can split the row."""
    text = " ".join(str(value if value is not None else "").split())
    return text.replace("\\", "\\\\").replace("|", "\\|") or "—"


@register.filter
def md_text(value: object) -> str:
    """Free text on one line, with Markdown's emphasis characters taken literally."""
    text = " ".join(str(value if value is not None else "").split())
    for char in ("\\", "*", "_", "`", "[", "]", "<", ">"):
        text = text.replace(char, "\\" + char)
    return text
