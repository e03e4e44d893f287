"""What a journey is made of, as plain data: its steps, each step's extractions and assertions, the
`{{variables}}` filled into them, and the rules a step must follow before it may run (bounded sizes, a URL
on one of the client's domains, a header without line breaks, a pattern that cannot run away)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from monitoring.extraction import selector_problem

MAX_STEPS = 20
MAX_HEADERS = 20
MAX_FIELDS = 30  # form fields of one step
MAX_EXTRACTIONS = 10
MAX_ASSERTIONS = 15
MAX_TEXT = 2000  # one header value, form value, expression or expected value
MAX_BODY = 64 * 1024  # a request body, variables filled in
MAX_PATTERN = 300
MAX_VARIABLE = 4096  # an extracted value kept in a variable

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
BODY_KINDS = {"none": "No body", "form": "Form fields", "json": "JSON"}
SOURCES = {
    "css": "CSS selector",
    "json": "JSON path",
    "regex": "Regular expression",
    "cookie": "Cookie",
    "header": "Response header",
}
ASSERTIONS = {
    "status": "Status is",
    "contains": "Body contains",
    "not_contains": "Body does not contain",
    "json": "JSON value at path",
    "header": "Header contains",
    "cookie": "Set-Cookie of the cookie contains",
    "latency": "Answers within (ms)",
}

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
# A group repeated that itself repeats ((a+)+, (a|aa)*): the shapes that backtrack without end.
NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")
# A group of alternatives repeated ((a|aa)*, (.|\s)*): alternatives that can match the same text backtrack alike.
REPEATED_ALTERNATION = re.compile(r"\((?:[^()\\]|\\.)*\|(?:[^()\\]|\\.)*\)\s*[+*{]")
# Headers the runner sets itself: a step may not forge them.
RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "cookie"}


@dataclass(frozen=True)
class Extraction:
    """Take a value from a step's answer into a variable: `source` is a key of SOURCES."""

    variable: str
    source: str
    expression: str
    attribute: str = ""  # for a CSS selector: the attribute to read (empty: the element's text)

    def as_dict(self) -> dict[str, str]:
        return {
            "variable": self.variable,
            "source": self.source,
            "expression": self.expression,
            "attribute": self.attribute,
        }

    @property
    def label(self) -> str:
        where = f"{SOURCES.get(self.source, self.source)} {self.expression}"
        return f"{{{{{self.variable}}}}} from {where}" + (f" ({self.attribute})" if self.attribute else "")


@dataclass(frozen=True)
class Assertion:
    """What a step's answer must show: `kind` is a key of ASSERTIONS; `target` a header, cookie or JSON path."""

    kind: str
    value: str = ""
    target: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "target": self.target, "value": self.value}

    @property
    def label(self) -> str:
        kind, value, target = self.kind, self.value, self.target
        if kind == "status":
            return f"Status is {value}"
        if kind == "contains":
            return f"Body contains “{value}”"
        if kind == "not_contains":
            return f"Body does not contain “{value}”"
        if kind == "json":
            return f"JSON {target} is “{value}”" if value else f"JSON {target} is present"
        if kind == "header":
            return f"Header {target} contains “{value}”" if value else f"Header {target} is present"
        if kind == "cookie":
            return f"Cookie {target} set with “{value}”" if value else f"Cookie {target} is set"
        if kind == "latency":
            return f"Answers within {value} ms"
        return f"{ASSERTIONS.get(kind, kind)} {value}"


@dataclass(frozen=True)
class StepSpec:
    name: str
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body_kind: str = "none"
    form: tuple[tuple[str, str], ...] = ()
    json_body: str = ""
    extractions: tuple[Extraction, ...] = ()
    assertions: tuple[Assertion, ...] = ()
    follow_redirects: bool = True


@dataclass(frozen=True)
class JourneySpec:
    """A journey ready to run: its steps, its plain variables and its secrets (decrypted, in memory only),
    and the client's domains its steps may address."""

    name: str
    steps: tuple[StepSpec, ...]
    domains: tuple[str, ...]
    variables: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)


def extractions_from(rows: Iterable[Mapping[str, Any]]) -> tuple[Extraction, ...]:
    return tuple(
        Extraction(
            str(r.get("variable", "")),
            str(r.get("source", "")),
            str(r.get("expression", "")),
            str(r.get("attribute", "")),
        )
        for r in rows
    )


def assertions_from(rows: Iterable[Mapping[str, Any]]) -> tuple[Assertion, ...]:
    return tuple(Assertion(str(r.get("kind", "")), str(r.get("value", "")), str(r.get("target", ""))) for r in rows)


# --- variables -------------------------------------------------------------------------------------


class MissingVariable(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def variables_in(text: str) -> list[str]:
    return VARIABLE.findall(text)


def fill(text: str, values: Mapping[str, str], encode: Callable[[str], str] = str) -> str:
    """The text with each {{name}} replaced by its value, passed through `encode` (percent-encoding in a URL,
    JSON escaping in a JSON body); a name with no value raises MissingVariable."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise MissingVariable(name)
        return encode(values[name])

    return VARIABLE.sub(one, text)


def url_part(value: str) -> str:
    return quote(value, safe="")


def json_string_part(value: str) -> str:
    """A value as it goes inside the quotes of a JSON string."""
    return json.dumps(value)[1:-1]


def carried_as_credentials(steps: Iterable[StepSpec], sensitive: Callable[[str], bool]) -> set[str]:
    """The variables a journey sends as credentials: in a header, or in a form field or a JSON body's key named
    like a password or token. Their values are secrets wherever they came from."""
    names: set[str] = set()
    for step in steps:
        for _, value in step.headers:
            names.update(variables_in(value))
        for field_name, value in step.form:
            if sensitive(field_name):
                names.update(variables_in(value))
        for key, value in re.findall(r'"([^"\\]{1,100})"\s*:\s*"([^"]*)"', step.json_body):
            if sensitive(key):
                names.update(variables_in(value))
    return names


def posts_password(method: str, form: Iterable[Sequence[Any]], json_body: str) -> bool:
    """A step that signs in: it posts the test account's {{password}} (in a form field or a JSON body)."""
    form_values = " ".join(str(pair[1]) for pair in form or [] if len(pair) > 1)
    return method == "POST" and "{{password}}" in f"{form_values} {json_body}"


# --- the rules -------------------------------------------------------------------------------------


def host_allowed(host: str, domains: Iterable[str]) -> bool:
    """A step may address a client's domain or a host under it, nothing else."""
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def url_problem(url: str, domains: Iterable[str]) -> str:
    """Why a step's URL cannot be used ("" when it can): https or http, a literal host on the client's domains."""
    domains = list(domains)
    if len(url) > 600:
        return "at most 600 characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return "not a valid web address"
    if parts.scheme not in ("http", "https"):
        return "start with https:// (or http://)"
    host = parts.hostname or ""
    if not host or VARIABLE.search(parts.netloc):
        return "write the host itself: a variable may fill the path or the query, not the host"
    if parts.username or parts.password:
        return "no user name or password in the address: use a header or a form field with a secret"
    if not host_allowed(host, domains):
        listed = ", ".join(domains) or "none yet"
        return f"{host} is not on this client's domains ({listed})"
    return ""


def pattern_problem(pattern: str) -> str:
    if len(pattern) > MAX_PATTERN:
        return f"at most {MAX_PATTERN} characters"
    if NESTED_QUANTIFIER.search(pattern):
        return "a repeated group that repeats inside ((a+)+) can run for ever: write it without"
    if REPEATED_ALTERNATION.search(pattern):
        return "a repeated group of alternatives ((a|aa)*) can run for ever: use a character class ([a-z]*) instead"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a regular expression: {exc}"
    return ""


def extraction_problem(extraction: Extraction) -> str:
    if not NAME.fullmatch(extraction.variable):
        return "name the variable with letters, digits and _ (it is used as {{name}})"
    if extraction.source not in SOURCES:
        return "choose where the value comes from"
    if not extraction.expression.strip() or len(extraction.expression) > MAX_TEXT:
        return f"say what to take (at most {MAX_TEXT} characters)"
    if extraction.source == "regex":
        return pattern_problem(extraction.expression)
    if extraction.source == "css":
        return selector_problem(extraction.expression)
    if extraction.source == "header" and not HEADER_NAME.fullmatch(extraction.expression):
        return "a header name, such as Location"
    return ""


def assertion_problem(assertion: Assertion) -> str:
    kind, value, target = assertion.kind, assertion.value.strip(), assertion.target.strip()
    if kind not in ASSERTIONS:
        return "choose what to check"
    if len(value) > MAX_TEXT or len(target) > MAX_TEXT:
        return f"at most {MAX_TEXT} characters"
    if kind == "status":
        if not all(re.fullmatch(r"[1-5](\d\d|xx)", s.strip()) for s in value.split(",")) or not value:
            return "statuses such as 200 or 200, 302 or 2xx"
    elif kind in ("contains", "not_contains") and not value:
        return "the text to look for"
    elif kind == "json" and not target:
        return "the JSON path, such as user.email or items[0].id"
    elif kind == "header" and not HEADER_NAME.fullmatch(target):
        return "the header's name, such as Cache-Control"
    elif kind == "cookie" and not target:
        return "the cookie's name, such as sessionid"
    elif kind == "latency" and (not value.isdigit() or not 1 <= int(value) <= 60000):
        return "a number of milliseconds, 1 to 60000"
    return ""


def header_problem(name: str, value: str) -> str:
    if not HEADER_NAME.fullmatch(name):
        return f"“{name[:40]}” is not a header name"
    if name.lower() in RESERVED_HEADERS:
        return f"{name} is set by the journey itself"
    if "\r" in value or "\n" in value or len(value) > MAX_TEXT:
        return f"the value of {name} must be one line of at most {MAX_TEXT} characters"
    return ""


def step_problems(step: StepSpec, domains: Iterable[str]) -> list[str]:
    """Everything wrong with a step before it runs, each in a sentence naming the part."""
    problems: list[str] = []
    if step.method not in METHODS:
        problems.append(f"method: one of {', '.join(METHODS)}")
    if not step.name.strip() or len(step.name) > 120:
        problems.append("name: a few words, at most 120 characters")
    problem = url_problem(step.url, domains)
    if problem:
        problems.append(f"address: {problem}")
    if len(step.headers) > MAX_HEADERS:
        problems.append(f"headers: at most {MAX_HEADERS}")
    problems += [f"header: {p}" for p in (header_problem(n, v) for n, v in step.headers) if p]
    if step.body_kind not in BODY_KINDS:
        problems.append("body: none, form fields or JSON")
    if len(step.form) > MAX_FIELDS:
        problems.append(f"form: at most {MAX_FIELDS} fields")
    if any(len(n) > 200 or len(v) > MAX_TEXT for n, v in step.form):
        problems.append(f"form: a field's value has at most {MAX_TEXT} characters")
    if len(step.json_body) > MAX_BODY:
        problems.append(f"JSON body: at most {MAX_BODY // 1024} KB")
    if step.body_kind == "json":
        try:
            json.loads(fill(step.json_body, _Placeholders(), json_string_part))
        except ValueError:
            problems.append('JSON body: not valid JSON (a variable goes inside quotes: "{{email}}")')
    if len(step.extractions) > MAX_EXTRACTIONS:
        problems.append(f"extractions: at most {MAX_EXTRACTIONS}")
    problems += [f"extraction {e.variable or '?'}: {p}" for e in step.extractions if (p := extraction_problem(e))]
    if len(step.assertions) > MAX_ASSERTIONS:
        problems.append(f"assertions: at most {MAX_ASSERTIONS}")
    problems += [f"assertion “{a.label}”: {p}" for a in step.assertions if (p := assertion_problem(a))]
    return problems


class _Placeholders(dict[str, str]):
    """Every variable has a value: a body is checked for its shape before any value is known."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return "x"
