"""Reading values out of an answer: a CSS selector through an HTML parser (selectolax's Lexbor engine, which
parses as browsers do and never runs a script), a JSON path (dotted names and [indexes]), a regular
expression, a cookie or a header. Each returns the text found or None, never raises on what a site sent."""

from __future__ import annotations

import json
import re
from typing import Any

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

MISSING = object()
PATH_TOKEN = re.compile(r'\.?([A-Za-z0-9_\-$@]+)|\[(-?\d+)\]|\["((?:[^"\\]|\\.)*)"\]')
REGEX_TEXT = 64 * 1024  # a pattern looks at this much of the body at most


def selector_problem(selector: str) -> str:
    """Why the parser cannot use this selector ("" when it can)."""
    try:
        LexborHTMLParser("<p></p>").css_first(selector)
    except (SelectolaxError, ValueError):
        return "not a CSS selector the parser understands (try input[name=csrf_token])"
    return ""


def css(html: str, selector: str, attribute: str = "") -> str | None:
    """The first element matching the selector: its attribute, or its text when none is named."""
    try:
        node = LexborHTMLParser(html).css_first(selector)
    except (SelectolaxError, ValueError):
        return None
    if node is None:
        return None
    if attribute:
        value = node.attributes.get(attribute)
        return None if value is None else str(value)
    return str(node.text(strip=True))


def json_path(document: Any, path: str) -> Any:
    """The value at a path such as `user.email`, `items[0].id`, `$.data["a.b"]` or `items[-1]`; MISSING
    when the path does not lead anywhere."""
    path = path.strip()
    if path in ("", "$"):
        return document
    if path.startswith("$"):
        path = path[1:]
    position, value = 0, document
    while position < len(path):
        match = PATH_TOKEN.match(path, position)
        if match is None or match.end() == position:
            return MISSING
        name, index, quoted = match.groups()
        position = match.end()
        if index is not None:
            if not isinstance(value, list):
                return MISSING
            i = int(index)
            if not -len(value) <= i < len(value):
                return MISSING
            value = value[i]
            continue
        key = json.loads(f'"{quoted}"') if quoted is not None else name
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return MISSING
    return value


def parse_json(text: str) -> Any:
    """The body as JSON, or MISSING when it is not."""
    try:
        return json.loads(text)
    except ValueError:
        return MISSING


def as_text(value: Any) -> str:
    """A JSON value as a variable holds it: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def regex(text: str, pattern: str) -> str | None:
    """The first group of the first match (or the whole match when the pattern has no group)."""
    try:
        match = re.search(pattern, text[:REGEX_TEXT])
    except re.error:
        return None
    if match is None:
        return None
    return match.group(1) if match.re.groups else match.group(0)
