"""The AI-assistant probe's configuration at work: the red-team set, how a message becomes a request,
where the answer is in a response, and which of a client's domains carries the probe's findings."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from audits.models import AssistantProbe
from launchready.models import Domain

PLACEHOLDER = "{{message}}"
REDTEAM_FILE = Path(__file__).resolve().parent / "data" / "assistant_redteam.json"
ANSWER_PATH = re.compile(r"^[\w\-]+(\.[\w\-]+)*$")
FORBIDDEN_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}

# Bounds on every probe run: how many prompts, how fast, how long each may take and how much is read.
MAX_PROMPTS = 12
PER_SECOND = 2.0
TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
STOP_AFTER_TIMEOUTS = 2  # an endpoint that hung twice is reported, not waited on twelve times


class AssistantConfigError(ValueError):
    """The probe's configuration cannot make a request; the message says what to fix."""


@dataclass(frozen=True)
class RedTeamPrompt:
    id: str
    category: str
    message: str


@cache
def redteam_set(path: Path = REDTEAM_FILE) -> tuple[RedTeamPrompt, ...]:
    """The red-team prompts from their data file, checked: a malformed entry stops with a clear error."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AssistantConfigError(f"{path.name} cannot be read: {exc}") from None
    prompts = data.get("prompts") if isinstance(data, dict) else None
    if not isinstance(prompts, list) or not prompts:
        raise AssistantConfigError(f'{path.name} needs a non-empty list under "prompts"')
    found: list[RedTeamPrompt] = []
    for n, entry in enumerate(prompts, 1):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) and entry[k].strip() for k in ("id", "category", "message")
        ):
            raise AssistantConfigError(f"{path.name}: prompt {n} needs text for id, category and message")
        found.append(RedTeamPrompt(entry["id"], entry["category"], entry["message"]))
    ids = [p.id for p in found]
    if len(set(ids)) != len(ids):
        raise AssistantConfigError(f"{path.name}: prompt ids must be unique")
    return tuple(found)


@dataclass(frozen=True)
class AssistantSpec:
    """What the probe needs to talk to one assistant. Header values are secrets: never in a repr or a log."""

    url: str
    canary: str
    method: str = "POST"
    body_format: str = "json"
    request_template: str = '{"message": "{{message}}"}'
    answer_path: str = ""
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    max_prompts: int = MAX_PROMPTS
    per_second: float = PER_SECOND
    timeout: float = TIMEOUT

    @classmethod
    def from_probe(cls, probe: AssistantProbe) -> AssistantSpec:
        return cls(
            url=probe.url,
            canary=probe.canary,
            method=probe.method,
            body_format=probe.body_format,
            request_template=probe.request_template,
            answer_path=probe.answer_path,
            headers=probe.headers,
        )


def check_template(template: str, body_format: str) -> None:
    """Raise AssistantConfigError unless the template makes a request with the message in it."""
    if PLACEHOLDER not in template:
        raise AssistantConfigError(f"The request template needs the {PLACEHOLDER} placeholder where the message goes.")
    if body_format == "json":
        try:
            json.loads(template)
        except json.JSONDecodeError as exc:
            raise AssistantConfigError(
                f"The request template is not valid JSON: {exc.msg} (line {exc.lineno})."
            ) from None
    elif not any(PLACEHOLDER in value for _, value in parse_qsl(template, keep_blank_values=True)):
        raise AssistantConfigError("Form fields look like message={{message}}&channel=web.")


def _fill(value: Any, message: str) -> Any:
    if isinstance(value, str):
        return value.replace(PLACEHOLDER, message)
    if isinstance(value, list):
        return [_fill(v, message) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, message) for k, v in value.items()}
    return value


def build_request(spec: AssistantSpec, message: str) -> tuple[str, dict[str, str], bytes | None]:
    """The URL, headers and body that carry one message; the message is encoded, never spliced raw."""
    check_template(spec.request_template, spec.body_format)
    headers = dict(spec.headers)
    if spec.body_format == "json":
        body = json.dumps(_fill(json.loads(spec.request_template), message)).encode()
        content_type = "application/json"
    else:
        fields = [(k, _fill(v, message)) for k, v in parse_qsl(spec.request_template, keep_blank_values=True)]
        body = urlencode(fields).encode()
        content_type = "application/x-www-form-urlencoded"
    if spec.method == "GET":
        if spec.body_format != "form":
            raise AssistantConfigError("A GET request carries the message in form fields (the query string).")
        parts = urlsplit(spec.url)
        query = "&".join(q for q in (parts.query, body.decode()) if q)
        return urlunsplit(parts._replace(query=query)), headers, None
    headers.setdefault("Content-Type", content_type)
    headers.setdefault("Accept", "application/json, text/plain;q=0.9, */*;q=0.5")
    return spec.url, headers, body


class AnswerMissing(LookupError):
    """The response has no answer where the configuration says it is."""


def extract_answer(body: str, path: str) -> str:
    """The answer text: the whole body, or the value at a dotted path (numbers index lists)."""
    if not path:
        return body
    try:
        value: Any = json.loads(body)
    except ValueError:
        raise AnswerMissing("the response is not JSON") from None
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise AnswerMissing(f"no {path} in the response")
    return value if isinstance(value, str) else json.dumps(value)


def assistant_domain(probe: AssistantProbe, domains: list[Domain]) -> Domain | None:
    """The domain whose audit carries the probe: the one the endpoint lives under, else the client's first."""
    host = (urlsplit(probe.url).hostname or "").lower()
    for domain in domains:
        if host == domain.name or host.endswith(f".{domain.name}"):
            return domain
    return min(domains, key=lambda d: d.id) if domains else None
