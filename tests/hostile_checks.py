"""How to tell, in what the product rendered, hostile text that stayed text from hostile text that became
markup: an element or an attribute it made, a script or style it wrote, a link it turned into, a
template it had evaluated, or HTML escaping where no HTML is (a plain-text email)."""

from __future__ import annotations

import json
import re

from markdown_it import MarkdownIt
from selectolax.lexbor import LexborHTMLParser

from launchready.bidi import CONTROLS
from launchready.sandbox.hostile_text import MARKER

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "data", "background", "ping"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
# An attribute whose value is read as HTML, CSS or an htmx instruction, not as text.
ACTIVE_ATTRIBUTES = ("hx-", "data-hx-", "style", "srcdoc")
# What evaluated template text would have printed (see launchready/sandbox/hostile_text.py, TEMPLATE).
EVALUATED = re.compile(rf"42{MARKER}t|\d{{4}}{MARKER}n")
ESCAPED_IN_TEXT = ("&lt;img", "&lt;script", "&quot;&gt;", "&#x27;&gt;", "&#39;&gt;")


def markup_problems(html: str) -> list[str]:
    """What hostile text turned into in this HTML, as a browser parses it; empty when it stayed text."""
    problems: list[str] = []
    tree = LexborHTMLParser(html)
    root = tree.root
    if root is None:
        return problems
    for node in root.traverse(include_text=False):
        tag = node.tag or ""
        if MARKER in tag:
            problems.append(f"<{tag}>: an element made of hostile text")
        for name, raw in node.attributes.items():
            value = (raw or "").strip().lower()
            if MARKER in name:
                problems.append(f"<{tag} {name}>: an attribute made of hostile text")
            elif name.startswith("on"):
                problems.append(f"<{tag} {name}={value[:40]!r}>: an event handler")
            elif name.startswith(ACTIVE_ATTRIBUTES) and MARKER in value:
                problems.append(f"<{tag} {name}={value[:60]!r}>: hostile text in an active attribute")
            elif name in URL_ATTRIBUTES and value.replace("\t", "").replace("\n", "").startswith(DANGEROUS_SCHEMES):
                problems.append(f"<{tag} {name}={value[:60]!r}>: a link that runs script")
        if tag in ("script", "style"):
            problems += _code_problems(tag, node.attributes.get("type") or "", node.text(deep=True))
    problems += [f"evaluated template text {m!r}" for m in EVALUATED.findall(html)]
    return problems + bidi_problems(html)


# htmx must never run script it is handed, nor send a request off the page's own origin.
HTMX_CONFIG = {"allowEval": False, "allowScriptTags": False, "selfRequestsOnly": True, "historyCacheSize": 0}


def htmx_problems(html: str) -> list[str]:
    """A page that loads htmx configures it so that hostile markup, were any to slip through, runs nothing."""
    tree = LexborHTMLParser(html)
    if not any("htmx" in (s.attributes.get("src") or "") for s in tree.css("script")):
        return []
    meta = tree.css_first('meta[name="htmx-config"]')
    if meta is None:
        return ["htmx is loaded without its hardened configuration"]
    config = json.loads(meta.attributes.get("content") or "{}")
    wrong = {key: want for key, want in HTMX_CONFIG.items() if config.get(key) != want}
    return [f"htmx {key} is {config.get(key)!r}, not {want!r}" for key, want in wrong.items()]


def _code_problems(tag: str, kind: str, body: str) -> list[str]:
    if tag == "script" and kind == "application/json":
        try:
            json.loads(body)
        except ValueError:
            return ["<script type=application/json>: hostile text broke its JSON"]
        return []
    return [f"<{tag}>: hostile text inside a {tag}"] if MARKER in body else []


def bidi_problems(text: str) -> list[str]:
    """A right-to-left override or any other bidirectional control left raw reorders the text around it."""
    return [f"a raw bidirectional control U+{ord(c):04X}" for c in sorted(set(CONTROLS.findall(text)))]


def text_problems(text: str) -> list[str]:
    """A plain-text part is no HTML context: hostile text is printed as it is, never HTML-escaped."""
    problems = [f"HTML escaping {s!r} in plain text" for s in ESCAPED_IN_TEXT if s in text]
    problems += [f"evaluated template text {m!r}" for m in EVALUATED.findall(text)]
    return problems + bidi_problems(text)


def markdown_problems(markdown: str) -> list[str]:
    """The Markdown as a viewer that lets HTML through would show it (the worst a founder may use)."""
    viewer = MarkdownIt("commonmark", {"html": True})
    viewer.validateLink = lambda url: True  # type: ignore[method-assign]  # a viewer that links anything
    return markup_problems(viewer.render(markdown))


def json_problems(body: bytes, content_type: str) -> list[str]:
    if not content_type.startswith("application/json"):
        return [f"served as {content_type}, not JSON"]
    try:
        json.loads(body)
    except ValueError:
        return ["not valid JSON"]
    return []
