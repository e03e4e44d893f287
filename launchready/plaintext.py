"""Plain text from templates: the subjects and text parts of emails, which are no HTML.

They are rendered without HTML escaping (a founder reading "Ghost & Co" must not see "Ghost &amp; Co"),
and what comes back is a plain string, not one marked safe: shown in a page, it is escaped again like
any other text.
"""

from __future__ import annotations

from typing import Any

from django.template import Context
from django.template.loader import get_template, render_to_string

from launchready.bidi import neutralise


def render_text(template_name: str, context: dict[str, Any]) -> str:
    template = get_template(template_name).template  # type: ignore[attr-defined]
    text = template.render(Context(context, autoescape=False))
    return neutralise(str.__str__(text))  # a plain str (no longer marked safe), its bidi controls shown


def render_email_html(template_name: str, context: dict[str, Any]) -> str:
    """An email's HTML part: autoescaped as any page, its bidirectional controls shown as marks."""
    return neutralise(render_to_string(template_name, context))


def render_subject(template_name: str, context: dict[str, Any], limit: int = 300) -> str:
    """One line: white space (a newline in a client's name, say) folded, so no header can be added."""
    return " ".join(render_text(template_name, context).split())[:limit]
