"""The one way templates show a finding's evidence: `{{ f.evidence|evidence }}` in HTML, `evidence_md` in Markdown."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from audits.evidence import evidence_html, evidence_markdown

register = template.Library()


@register.filter
def evidence(value: Any) -> SafeString:
    return evidence_html(value)


@register.filter
def evidence_md(value: Any, indent: str = "") -> SafeString:
    """For the Markdown export only: its text is escaped for Markdown, so the template must not HTML-escape it."""
    return SafeString(evidence_markdown(value, indent))  # escaped for Markdown, not HTML  # nosec B703
