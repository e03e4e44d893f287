"""Text in the Markdown export: whatever a record holds is printed as text, never as Markdown or HTML.

The export's template autoescapes: every string of the pack's data reaches it as `MarkdownText`, which
escapes itself for Markdown, and anything else (a number, a filter's result) is HTML-escaped, which a
Markdown viewer shows as the same text. So a value nobody thought of is still never markup.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.safestring import SafeString

# Characters that start inline Markdown or HTML anywhere in a line (GitHub's tables and strike-through too).
_INLINE = re.compile(r"([\\`*_\[\]<>|&~])")
# What starts a block when it comes first on a line (CommonMark): a heading, a quote, a list item, a rule.
_BLOCK_START = re.compile(r"^(?:#{1,6}(?=\s|$)|>|[-+](?=\s|$)|\d{1,9}(?=[.)](?:\s|$))|[=-]+\s*$)")


def md_escape(value: object) -> str:
    """Free text on one line, every character that could be markup taken literally."""
    text = " ".join(str(value if value is not None else "").split())
    text = _INLINE.sub(r"\\\1", text)
    start = _BLOCK_START.match(text)
    if start is None:
        return text
    if text[0].isdigit():  # "1. " starts an ordered list: escape its dot or bracket
        end = start.end()
        return text[:end] + "\\" + text[end:]
    return "\\" + text


def md_code(value: object) -> SafeString:
    """A code span that no backtick in the value can close, and no pipe can split a table row with."""
    text = " ".join(str(value if value is not None else "").split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""  # CommonMark strips one space each side
    return SafeString(f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}")  # a Markdown code span  # nosec B703


def md_line(value: object) -> SafeString:
    """A line inside a fenced code block: taken literally there, as long as it stays one line."""
    line = " ".join(str(value if value is not None else "").split()).replace("```", "'''")
    return SafeString(line)  # a line of a fenced code block  # nosec B703


class MarkdownText(str):
    """A string that, printed in the autoescaping Markdown template, escapes itself for Markdown."""

    def __html__(self) -> str:
        return md_escape(self)


def for_markdown(data: Any) -> Any:
    """The pack's data with every string made `MarkdownText` (keys untouched)."""
    if isinstance(data, str):
        return MarkdownText(data)
    if isinstance(data, dict):
        return {key: for_markdown(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [for_markdown(value) for value in data]
    return data
