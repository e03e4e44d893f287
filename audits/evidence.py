"""A finding's evidence as people read it: key/value tables, lists of rows as tables with headers, strings
as code, never Python's repr. One shape, drawn as HTML (the risk list, the run page, the handover pack and
its PDF) and as Markdown (the pack's export).

Evidence holds what an audited domain sent (TXT records, headers, titles): every string is escaped in HTML
(format_html) and set as a code span in Markdown, so none of it can become markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from launchready.markdown import md_code, md_escape

# Column headers of the evidence that lists rows without naming their columns (a route's redirect chain).
COLUMNS: dict[str, tuple[str, ...]] = {"chain": ("Address", "Status", "Error")}

# Words kept in capitals when a key becomes a label: "cname_chain" reads "CNAME chain".
ACRONYMS = {
    "a", "aaaa", "caa", "cdn", "cname", "csp", "dkim", "dmarc", "dns", "hsts", "http", "https", "id", "ip",
    "mx", "ns", "p95", "soa", "spf", "tls", "ttl", "txt", "url", "urls",
}  # fmt: skip
UNITS = {"ms": "(ms)", "s": "(s)", "kb": "(KB)"}
MAX_ROWS = 50  # a page answers with at most this many rows of one list; the rest are counted
MAX_DEPTH = 4  # deeper than this, a value is shown as its text


@dataclass(frozen=True)
class Shape:
    """One value of the evidence, classified: none, text (numbers, yes/no), code (strings), list (of
    scalars), table (headers and rows of shapes) or pairs (a dict's labels and shapes)."""

    kind: str
    text: str = ""
    items: tuple[Shape, ...] = ()
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[Shape, ...], ...] = ()
    pairs: tuple[tuple[str, Shape], ...] = ()
    more: int = 0  # rows or items left out past MAX_ROWS


def label(key: object) -> str:
    """A key as a label: header names stay as sent ("cache-control"), snake_case becomes words."""
    text = str(key)
    if "-" in text or not text:
        return text
    if text.isupper():
        return text
    words = text.replace("_", " ").split()
    shown = []
    for i, word in enumerate(words):
        lower = word.lower()
        if lower in ACRONYMS:
            shown.append(word.upper())
        elif i == len(words) - 1 and i > 0 and lower in UNITS:
            shown.append(UNITS[lower])
        else:
            shown.append(lower.capitalize() if i == 0 else lower)
    return " ".join(shown)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def shape(value: Any, key: str = "", depth: int = 0) -> Shape:
    if value is None:
        return Shape("none")
    if isinstance(value, bool):
        return Shape("text", "yes" if value else "no")
    if isinstance(value, int | float):
        return Shape("text", f"{value:g}" if isinstance(value, float) else str(value))
    if isinstance(value, str):
        return Shape("code", value)
    if depth >= MAX_DEPTH:
        return Shape("code", str(value))
    if isinstance(value, dict):
        return Shape("pairs", pairs=tuple((label(k), shape(v, str(k), depth + 1)) for k, v in value.items()))
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        kept, more = items[:MAX_ROWS], max(0, len(items) - MAX_ROWS)
        if items and all(isinstance(i, list | tuple) for i in items):
            return _rows(kept, key, depth, more)
        if items and all(isinstance(i, dict) for i in items):
            headers = list(dict.fromkeys(k for i in kept for k in i))
            rows = tuple(tuple(shape(i.get(h), str(h), depth + 1) for h in headers) for i in kept)
            return Shape("table", headers=tuple(label(h) for h in headers), rows=rows, more=more)
        return Shape("list", items=tuple(shape(i, key, depth + 1) for i in kept), more=more)
    return Shape("code", str(value))


def _rows(items: list[Any], key: str, depth: int, more: int) -> Shape:
    width = max(len(i) for i in items)
    named = COLUMNS.get(key, ())
    headers = named if len(named) == width else tuple(f"Value {i + 1}" for i in range(width))
    rows = tuple(tuple(shape(row[c] if c < len(row) else None, key, depth + 1) for c in range(width)) for row in items)
    return Shape("table", headers=headers, rows=rows, more=more)


def evidence_shape(evidence: Any) -> Shape:
    """The whole evidence: a dict becomes pairs; anything else (old rows, a bare value) is shaped as it is."""
    return shape(evidence if evidence is not None else {})


# --- HTML --------------------------------------------------------------------------------------------


def _more(count: int) -> SafeString:
    return format_html('<p class="muted small">and {} more</p>', count) if count else SafeString("")


def _html(s: Shape) -> SafeString:
    if s.kind == "none":
        return format_html('<span class="muted">{}</span>', "none")
    if s.kind == "text":
        return format_html("{}", s.text)
    if s.kind == "code":
        if not s.text:
            return format_html('<span class="muted">{}</span>', "empty")
        return format_html("<code>{}</code>", s.text)
    if s.kind == "list":
        if not s.items:
            return format_html('<span class="muted">{}</span>', "none")
        items = format_html_join("", "<li>{}</li>", ((_html(i),) for i in s.items))
        return format_html('<ul class="evidence-list">{}</ul>{}', items, _more(s.more))
    if s.kind == "table":
        head = format_html_join("", '<th scope="col">{}</th>', ((h,) for h in s.headers))
        body = format_html_join(
            "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((_html(c),) for c in row)),) for row in s.rows)
        )
        return format_html(
            '<div class="table-wrap"><table class="evidence-table"><thead><tr>{}</tr></thead><tbody>{}</tbody>'
            "</table></div>{}",
            head,
            body,
            _more(s.more),
        )
    rows = format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', ((k, _html(v)) for k, v in s.pairs))
    return format_html('<table class="evidence-table evidence-pairs"><tbody>{}</tbody></table>', rows)


def evidence_html(evidence: Any) -> SafeString:
    """The evidence as HTML; every string in it escaped."""
    s = evidence_shape(evidence)
    if s.kind == "pairs" and not s.pairs:
        return SafeString("")
    return format_html('<div class="evidence">{}</div>', _html(s))


# --- Markdown ----------------------------------------------------------------------------------------


def _code(text: str) -> str:
    """A code span that holds `text` literally (see launchready/markdown.py)."""
    return md_code(text) if " ".join(text.split()) else "(empty)"


def _md_inline(s: Shape) -> str:
    if s.kind == "none":
        return "none"
    if s.kind == "text":
        return md_escape(s.text)
    if s.kind == "code":
        return _code(s.text)
    if s.kind == "list":
        shown = ", ".join(_md_inline(i) for i in s.items) or "none"
        return shown + (f" and {s.more} more" if s.more else "")
    if s.kind == "pairs":
        return "; ".join(f"{md_escape(k)}: {_md_inline(v)}" for k, v in s.pairs) or "none"
    return "; ".join(" · ".join(_md_inline(c) for c in row) for row in s.rows)


def _md_cell(s: Shape) -> str:
    # Inside a table a pipe ends the cell even in a code span: md_escape and md_code escape it already.
    return _md_inline(s)


def _md_table(s: Shape) -> list[str]:
    lines = [
        "| " + " | ".join(md_escape(h) for h in s.headers) + " |",
        "|" + " --- |" * len(s.headers),
        *("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in s.rows),
    ]
    return lines + ([f"and {s.more} more"] if s.more else [])


def evidence_markdown(evidence: Any, indent: str = "") -> str:
    """The evidence as Markdown: a list of its keys, each list of rows as a table with headers under its key."""
    s = evidence_shape(evidence)
    pairs = s.pairs if s.kind == "pairs" else (("Evidence", s),)
    # The one-line values first, as a list; then each table under its key, apart from the list.
    lines = [f"- {md_escape(key)}: {_md_inline(value)}" for key, value in pairs if value.kind != "table"]
    for key, value in pairs:
        if value.kind == "table":
            lines += ["", f"{md_escape(key)}:", "", *_md_table(value)]
    return "\n".join(f"{indent}{line}" if line else "" for line in lines).strip("\n")
