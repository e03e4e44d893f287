"""A step's headers, form fields, extractions and assertions as lines of text, the way the step form edits
them, and back. One line each:

    headers        Accept: application/json
    form fields    email={{email}}
    extractions    csrf_token = css input[name=csrfmiddlewaretoken] @value
                   token = json access_token        session = cookie sessionid
                   next = header Location           order = regex Order #(\\d+)
    assertions     status 200, 302                  contains Welcome back
                   not_contains type="password"     json user.plan = pro
                   header Cache-Control no-store    cookie sessionid Secure; HttpOnly
                   latency 2000

`parse_*` raise LineError naming the line; `*_text` write what parse reads back unchanged."""

from __future__ import annotations

from collections.abc import Iterable

from monitoring.journey_steps import ASSERTIONS, SOURCES, Assertion, Extraction


class LineError(ValueError):
    def __init__(self, number: int, message: str) -> None:
        super().__init__(f"line {number}: {message}")


def _lines(text: str) -> Iterable[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line.strip()


def parse_headers(text: str) -> list[tuple[str, str]]:
    headers = []
    for number, line in _lines(text):
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise LineError(number, "write a header as Name: value")
        headers.append((name.strip(), value.strip()))
    return headers


def headers_text(headers: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"{n}: {v}" for n, v in headers)


def parse_form(text: str) -> list[tuple[str, str]]:
    fields = []
    for number, line in _lines(text):
        name, eq, value = line.partition("=")
        if not eq or not name.strip():
            raise LineError(number, "write a field as name=value")
        fields.append((name.strip(), value.strip()))
    return fields


def form_text(fields: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"{n}={v}" for n, v in fields)


def parse_extractions(text: str) -> list[Extraction]:
    extractions = []
    for number, line in _lines(text):
        variable, eq, rest = line.partition("=")
        source, _, expression = rest.strip().partition(" ")
        if not eq or not variable.strip() or source not in SOURCES or not expression.strip():
            raise LineError(number, f"write variable = source what, the source one of {', '.join(SOURCES)}")
        attribute = ""
        expression = expression.strip()
        if source == "css" and " @" in expression:
            expression, _, attribute = expression.rpartition(" @")
        extractions.append(Extraction(variable.strip(), source, expression.strip(), attribute.strip()))
    return extractions


def extractions_text(extractions: Iterable[Extraction]) -> str:
    return "\n".join(
        f"{e.variable} = {e.source} {e.expression}" + (f" @{e.attribute}" if e.attribute else "") for e in extractions
    )


def parse_assertions(text: str) -> list[Assertion]:
    assertions = []
    for number, line in _lines(text):
        kind, _, rest = line.partition(" ")
        rest = rest.strip()
        if kind not in ASSERTIONS:
            raise LineError(number, f"start with one of {', '.join(ASSERTIONS)}")
        if kind == "json":
            target, eq, value = rest.partition("=")
            assertions.append(Assertion(kind, value.strip() if eq else "", target.strip()))
        elif kind in ("header", "cookie"):
            target, _, value = rest.partition(" ")
            assertions.append(Assertion(kind, value.strip(), target.strip()))
        else:
            assertions.append(Assertion(kind, rest))
    return assertions


def assertions_text(assertions: Iterable[Assertion]) -> str:
    lines = []
    for a in assertions:
        if a.kind == "json":
            lines.append(f"json {a.target}" + (f" = {a.value}" if a.value else ""))
        elif a.kind in ("header", "cookie"):
            lines.append(f"{a.kind} {a.target}" + (f" {a.value}" if a.value else ""))
        else:
            lines.append(f"{a.kind} {a.value}")
    return "\n".join(lines)
