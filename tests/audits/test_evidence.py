"""A finding's evidence as people read it: tables with headers, strings as code, never Python's repr, and
whatever an audited domain sent kept as text in HTML and in Markdown."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.template import engines
from django.test import RequestFactory

from audits.evidence import MAX_ROWS, evidence_html, evidence_markdown, label
from audits.findings_html import findings_html
from audits.models import AuditFinding, AuditRun
from launchready.models import Domain

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<b hx-post=/contacts/new/ hx-trigger=load>x</b>",
    "{{ request }} {% now 'Y' %}",
    "javascript:alert(1)",
    "a | b ` c ** d",
]

CHAIN = {"chain": [["https://app.brightpath.test/login", 404, None]]}


class Tree(HTMLParser):
    """The elements, attributes and text of a fragment, as a browser would parse it."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]
        if tag in ("th", "td"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> Tree:
    tree = Tree()
    tree.feed(html)
    return tree


def test_it_draws_a_list_of_rows_as_a_table_with_headers() -> None:
    tree = parse(evidence_html(CHAIN))
    assert tree.cells[:4] == ["Chain", "Address", "Status", "Error"]
    assert tree.cells[4:] == ["https://app.brightpath.test/login", "404", "none"]
    assert "[[" not in evidence_html(CHAIN) and "None" not in evidence_html(CHAIN)


def test_it_draws_a_dict_as_a_key_value_table_with_strings_as_code() -> None:
    html = evidence_html({"cname_chain": ["shop.brightpath.test", "gone.myshopify.com"], "ttfb_ms": 812})
    tree = parse(html)
    assert tree.cells[0] == "CNAME chain" and tree.cells[2] == "Ttfb (ms)"
    assert tree.cells[3] == "812"
    assert tree.tags.count("code") == 2 and "<li><code>gone.myshopify.com</code></li>" in html


def test_it_draws_nested_evidence_as_nested_tables() -> None:
    html = evidence_html({"headers": {"cache-control": "no-store", "set-cookie": ["session"]}, "ok": False})
    assert parse(html).tags.count("table") == 2
    assert '<th scope="row">Headers</th><td><table class="evidence-table evidence-pairs">' in html
    assert '<th scope="row">cache-control</th><td><code>no-store</code></td>' in html
    assert '<th scope="row">Ok</th><td>no</td>' in html


def test_it_draws_a_list_of_dicts_as_a_table_with_their_keys_as_headers() -> None:
    html = evidence_html({"records": [{"name": "@", "type": "MX", "ttl": 3600}, {"name": "app", "type": "CNAME"}]})
    tree = parse(html)
    assert tree.cells[1:4] == ["Name", "Type", "TTL"]
    assert tree.cells[4:] == ["@", "MX", "3600", "app", "CNAME", "none"]


def test_it_shows_none_and_empty_evidence_plainly() -> None:
    assert evidence_html({}) == ""
    assert evidence_html(None) == ""
    assert parse(evidence_html({"error": None, "value": ""})).cells == ["Error", "none", "Value", "empty"]


def test_it_counts_the_rows_it_leaves_out() -> None:
    html = evidence_html({"samples_ms": list(range(MAX_ROWS + 7))})
    assert html.count("<li>") == MAX_ROWS and "and 7 more" in html


@pytest.mark.parametrize("hostile", HOSTILE)
def test_it_keeps_hostile_strings_as_text_in_html(hostile: str) -> None:
    evidence = {hostile: hostile, "chain": [[hostile, 200, hostile]], "nested": {"title": hostile}}
    tree = parse(evidence_html(evidence))
    assert set(tree.tags) <= {"div", "table", "tbody", "thead", "tr", "th", "td", "code", "span"}
    assert set(tree.attributes) <= {"class", "scope"}
    assert hostile in tree.cells  # as text, exactly as sent


def test_it_is_the_filter_every_template_uses() -> None:
    template = engines["django"].from_string("{% load evidence_tags %}{{ e|evidence }}|{{ e|evidence_md }}")
    html, markdown = template.render({"e": CHAIN}).split("|", 1)
    assert html == evidence_html(CHAIN) and "<table" in html
    assert markdown.strip() == evidence_markdown(CHAIN)


def test_it_writes_rows_as_a_markdown_table() -> None:
    assert evidence_markdown(CHAIN).splitlines() == [
        "Chain:",
        "",
        "| Address | Status | Error |",
        "| --- | --- | --- |",
        "| `https://app.brightpath.test/login` | 404 | none |",
    ]


def test_it_writes_a_dict_as_a_markdown_list_indented_under_its_finding() -> None:
    markdown = evidence_markdown({"NS": ["ns1.example.net", "ns2.example.net"], "bytes": 0}, indent="  ")
    assert markdown.splitlines() == ["  - NS: `ns1.example.net`, `ns2.example.net`", "  - Bytes: 0"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_it_keeps_hostile_strings_inside_code_spans_in_markdown(hostile: str) -> None:
    markdown = evidence_markdown({"title": hostile, "chain": [[hostile, 200, None]]})
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    assert all(line.count(" | ") == 2 for line in rows[2:]), rows  # no pipe of the value splits a cell
    # The values sit in code spans, where Markdown shows HTML and emphasis as text.
    title = markdown.splitlines()[0]
    assert title.startswith("- Title: `") and title.endswith("`")
    assert rows[2].startswith("| `") and "` | 200 | none |" in rows[2]


def test_it_never_writes_python_repr() -> None:
    for text in (evidence_html(CHAIN), evidence_markdown(CHAIN)):
        assert "[[" not in text and "None" not in text and "'" not in text


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("cname_chain", "CNAME chain"),
        ("ttfb_ms", "Ttfb (ms)"),
        ("not_after", "Not after"),
        ("NS", "NS"),
        ("cache-control", "cache-control"),
        ("dkim_selectors", "DKIM selectors"),
    ],
)
def test_it_labels_keys_in_words(key: str, shown: str) -> None:
    assert label(key) == shown


def test_the_risk_list_shows_evidence_as_a_table() -> None:
    run = AuditRun(domain=Domain(name="example.com"))
    finding = AuditFinding(
        run=run, severity="high", title="The login page answers 404", fix="Restore it.", evidence=CHAIN
    )
    html = findings_html(RequestFactory().get("/"), [finding])
    assert "What we saw" in html and evidence_html(CHAIN) in html
    assert "[[" not in html and "None" not in html
    assert "example.com" in html


def test_it_lists_the_one_line_values_before_the_tables_in_markdown() -> None:
    lines = evidence_markdown({**CHAIN, "bytes": 0}).splitlines()
    assert lines[:3] == ["- Bytes: 0", "", "Chain:"]
