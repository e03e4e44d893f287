"""The Markdown export's escaping: whatever a record holds reads as the same text in a Markdown viewer."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from launchready.markdown import MarkdownText, for_markdown, md_code, md_escape

VIEWER = MarkdownIt("commonmark", {"html": True}).enable("table")


def _shown(markdown: str) -> str:
    """The text a viewer shows for one paragraph."""
    html = VIEWER.render(markdown).strip()
    assert html.startswith("<p>") and html.endswith("</p>"), html
    return html[3:-4].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&quot;", '"')


@pytest.mark.parametrize(
    "text",
    [
        "Ghost Labs & Co <b>bold</b>",
        "*not emphasis* and _not either_",
        "[a link](javascript:alert(1))",
        "`code` and ``more``",
        "97.52% uptime",
        "a | pipe ~~and~~ strike",
        '"><img src=x onerror=alert(1)>',
    ],
)
def test_it_shows_free_text_as_it_is(text: str) -> None:
    assert _shown(md_escape(text)) == text


@pytest.mark.parametrize("text", ["# Heading", "1. first", "2) second", "- item", "+ item", "> quote", "==="])
def test_a_value_at_the_start_of_a_line_starts_no_block(text: str) -> None:
    assert _shown(md_escape(text)) == text


def test_it_keeps_a_value_on_one_line() -> None:
    assert md_escape("line one\n\n# line two") == "line one # line two"


def test_no_backtick_closes_a_code_span_early() -> None:
    hostile = "`</code><img src=x onerror=alert(9)>`"
    html = VIEWER.render(md_code(hostile)).strip()
    assert html.count("<code>") == 1 and "<img" not in html


def test_the_data_of_the_pack_escapes_itself_for_markdown() -> None:
    data = for_markdown({"client": "A*B", "routes": [{"url": "https://x.test/_a_"}], "count": 3})
    assert isinstance(data["client"], MarkdownText) and data["client"].__html__() == "A\\*B"
    assert data["routes"][0]["url"].__html__() == "https://x.test/\\_a\\_"
    assert data["count"] == 3


def test_evidence_in_the_markdown_export_is_not_html_escaped_as_well() -> None:
    from django.template import Context, Template

    text = Template("{% load evidence_tags %}{{ e|evidence_md }}").render(Context({"e": {"TXT": 'v=spf1 "a" <b> & c'}}))
    assert "&quot;" not in text and "&lt;" not in text and "&amp;" not in text
    assert 'v=spf1 "a" <b> & c' in text  # inside a code span, where Markdown reads it literally
