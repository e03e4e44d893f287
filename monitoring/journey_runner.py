"""Running a journey: its steps in order, with one cookie jar across them, each redirect followed hop by hop
through net.py (the address guard on every hop) so that every hop is recorded with the cookies it carried,
held back, set and refused. Values are taken from each answer into variables for the next steps; each step's
assertions are checked; the first failing step ends the run and is explained in plain English.

Everything is bounded: steps (journey_steps.MAX_STEPS), redirects per step, bytes read and kept, the time of
each request and of the whole journey.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from launchready.net import REDIRECT_STATUSES, FetchResult, Net, NetConfig, current_config
from launchready.timing import LagMeter
from monitoring import extraction
from monitoring.cookies import CookieJar
from monitoring.journey_explain import explain
from monitoring.journey_results import Check, HopRecord, StepOutcome
from monitoring.journey_steps import (
    MAX_BODY,
    MAX_STEPS,
    MAX_VARIABLE,
    Assertion,
    JourneySpec,
    MissingVariable,
    StepSpec,
    carried_as_credentials,
    fill,
    header_problem,
    json_string_part,
    url_part,
    url_problem,
)
from monitoring.redaction import Redactor, is_sensitive_name

MAX_REDIRECTS = 10
BODY_BYTES = 512 * 1024  # read of each answer at most (what extractions and assertions look at)
BODY_KEPT = 2000  # characters of the final answer kept as evidence
JOURNEY_DEADLINE = 60.0  # seconds for a whole journey
# Set by a scheduler round that runs many journeys on one loop: how late that loop wakes up.
ROUND_METER: ContextVar[LagMeter | None] = ContextVar("journey_round_meter", default=None)
STEP_DEADLINE = 15.0  # seconds for one request


@dataclass
class JourneyResult:
    name: str
    steps: list[StepOutcome]
    ms: float
    redactor: Redactor

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps if s.ran) and all(s.ran for s in self.steps)

    @property
    def failing(self) -> StepOutcome | None:
        return next((s for s in self.steps if s.ran and not s.ok), None)

    @property
    def summary(self) -> str:
        failing = self.failing
        if not self.steps:
            return "The journey has no step yet"
        if failing is None:
            return f"All {len(self.steps)} steps passed in {self.ms:.0f} ms"
        assert failing.explanation is not None  # noqa: S101 - set for every failing step  # nosec B101
        return failing.explanation.summary


# --- running ---------------------------------------------------------------------------------------


def run(spec: JourneySpec, config: NetConfig | None = None, *, deadline: float = JOURNEY_DEADLINE) -> JourneyResult:
    """Run a journey from synchronous code (a view's "run now", a task): a Net of its own for this run."""
    return asyncio.run(run_journey(spec, config, deadline=deadline))


async def run_journey(
    spec: JourneySpec, config: NetConfig | None = None, *, deadline: float = JOURNEY_DEADLINE
) -> JourneyResult:
    """Run the steps in order until one fails. The Net is the journey's own: no connection or cookie of
    another journey can serve it."""
    base = config or current_config()
    net_config = replace(base, request_deadline=min(base.request_deadline, STEP_DEADLINE))
    redactor = Redactor(spec.secrets)
    jar = CookieJar()
    values: dict[str, str] = {**spec.variables, **spec.secrets}
    credentials = carried_as_credentials(spec.steps, is_sensitive_name)
    outcomes: list[StepOutcome] = []
    started = time.monotonic()
    async with Net(net_config, deadline=deadline) as net:
        for index, step in enumerate(spec.steps[:MAX_STEPS]):
            outcome = StepOutcome(index, step)
            outcomes.append(outcome)
            remaining = deadline - (time.monotonic() - started)
            if remaining <= 0.05:
                outcome.problem = f"the journey ran out of its {deadline:.0f} s before this step"
            else:
                try:
                    async with asyncio.timeout(remaining):
                        await _run_step(outcome, spec, values, jar, net, redactor, credentials)
                except TimeoutError:
                    outcome.problem = f"the journey ran out of its {deadline:.0f} s during this step"
            if not outcome.ok:
                outcome.explanation = explain(outcome, outcomes[:-1])
                break
    for index, step in enumerate(spec.steps[len(outcomes) : MAX_STEPS], start=len(outcomes)):
        outcomes.append(StepOutcome(index, step, ran=False))
    return JourneyResult(spec.name, outcomes, (time.monotonic() - started) * 1000, redactor)


async def _run_step(
    outcome: StepOutcome,
    spec: JourneySpec,
    values: dict[str, str],
    jar: CookieJar,
    net: Net,
    redactor: Redactor,
    credentials: set[str],
) -> None:
    step = outcome.step
    try:
        url = fill(step.url, values, url_part)
        headers = [(name, fill(value, values)) for name, value in step.headers]
        content, content_type, shown_body, form = _body(step, values)
    except MissingVariable as missing:
        outcome.url = step.url
        outcome.problem = (
            f"it uses {{{{{missing.name}}}}}, which no variable, secret or earlier step's extraction provides"
        )
        return
    except ValueError as exc:
        outcome.url = step.url
        outcome.problem = str(exc)
        return
    outcome.url = url
    problem = url_problem(url, spec.domains) or next((p for n, v in headers if (p := header_problem(n, v))), "")
    if problem:
        outcome.problem = problem
        return
    if content_type and not any(n.lower() == "content-type" for n, _ in headers):
        headers.append(("Content-Type", content_type))
    outcome.request_headers = headers
    outcome.request_body = shown_body
    outcome.request_form = form
    method = step.method
    current = url
    seen: dict[tuple[str, str, str], int] = {}
    started = time.monotonic()
    result: FetchResult | None = None
    for _ in range(MAX_REDIRECTS + 1):
        cookie_header, sent, withheld = jar.header_for(current)
        key = (method, current, cookie_header)
        if key in seen:
            outcome.loop = [h.url for h in outcome.hops[seen[key] :]] + [current]
            break
        seen[key] = len(outcome.hops)
        request_headers = dict(headers)
        if cookie_header:
            request_headers["Cookie"] = cookie_header
        result = await net.fetch(
            current,
            method=method,
            headers=request_headers,
            follow_redirects=False,
            max_bytes=BODY_BYTES,
            content=content,
        )
        hop = result.final
        lines = hop.header_all("set-cookie")
        stored, refused = jar.store(current, lines)
        record = HopRecord(
            method,
            current,
            hop.status,
            hop.location,
            hop.elapsed_ms,
            hop.error,
            hop.detail,
            [c.name for c in sent],
            withheld,
            stored,
            refused,
            lines,
        )
        outcome.hops.append(record)
        if hop.error is not None or not step.follow_redirects:
            break
        if hop.status not in REDIRECT_STATUSES or not hop.location:
            break
        next_url = urljoin(current, hop.location)
        if _origin(next_url) != _origin(current):  # as browsers and httpx do: credentials stay with their origin
            kept = {n for n, v in step.headers if not _credential_header(n, v)}
            headers = [(n, v) for n, v in headers if n in kept or n.lower() == "content-type"]
        if (hop.status == 303 and method != "HEAD") or (hop.status in (301, 302) and method == "POST"):
            method, content = "GET", None
            headers = [(n, v) for n, v in headers if n.lower() != "content-type"]
        current = next_url
    else:
        outcome.too_many_redirects = True
    outcome.ms = (time.monotonic() - started) * 1000
    meter = ROUND_METER.get()
    if meter is not None:  # in a round of many: the time the answers waited for this process is not the app's
        outcome.queued_ms = min(outcome.ms, meter.recent(outcome.ms / 1000) * 1000 * len(outcome.hops))
    outcome.final = result
    if result is None or outcome.loop or outcome.too_many_redirects or outcome.error is not None:
        return
    outcome.body_text = result.text
    _extract(outcome, values, jar, redactor, credentials)
    outcome.checks = _checks(outcome)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def _credential_header(name: str, template: str) -> bool:
    """A header not to send to another origin after a redirect: an authorization header, one named like a
    secret, or one whose value is filled from a variable (a token, most often)."""
    lowered = name.lower()
    return lowered in ("authorization", "proxy-authorization", "cookie") or is_sensitive_name(name) or "{{" in template


def _body(step: StepSpec, values: dict[str, str]) -> tuple[bytes | None, str, str, list[tuple[str, str]]]:
    """(bytes sent, their content type, the body as text, its form fields) of a step."""
    if step.body_kind == "form":
        pairs = [(fill(n, values), fill(v, values)) for n, v in step.form]
        encoded = urlencode(pairs)
        if len(encoded) > MAX_BODY:
            raise ValueError(f"its form body is over {MAX_BODY // 1024} KB once the variables are filled in")
        shown = "&".join(f"{n}={v}" for n, v in pairs)
        return encoded.encode(), "application/x-www-form-urlencoded", shown, pairs
    if step.body_kind == "json":
        text = fill(step.json_body, values, json_string_part)
        if len(text) > MAX_BODY:
            raise ValueError(f"its JSON body is over {MAX_BODY // 1024} KB once the variables are filled in")
        try:
            json.loads(text)
        except ValueError:
            raise ValueError("its JSON body is not valid JSON once the variables are filled in") from None
        return text.encode(), "application/json", text, []
    return None, "", "", []


def _extract(
    outcome: StepOutcome, values: dict[str, str], jar: CookieJar, redactor: Redactor, credentials: set[str]
) -> None:
    """Take each extraction's value into its variable; a value that is a credential (taken from a cookie or a
    header, named like one, or sent as one later) is never shown again."""
    response = outcome.final
    for item in outcome.step.extractions:
        found: str | None
        if item.source == "css":
            found = extraction.css(outcome.body_text, item.expression, item.attribute)
        elif item.source == "json":
            document = extraction.parse_json(outcome.body_text)
            value = (
                extraction.MISSING
                if document is extraction.MISSING
                else extraction.json_path(document, item.expression)
            )
            found = None if value is extraction.MISSING else extraction.as_text(value)
        elif item.source == "regex":
            found = extraction.regex(outcome.body_text, item.expression)
        elif item.source == "cookie":
            cookie = jar.get(item.expression)
            found = cookie.value if cookie else None
        else:
            found = response.final.header(item.expression) if response is not None else None
        if found is not None:
            found = found[:MAX_VARIABLE]
            values[item.variable] = found
            if item.source in ("cookie", "header") or is_sensitive_name(item.variable) or item.variable in credentials:
                redactor.add(item.variable, found)
        outcome.extracted.append((item.variable, found is not None, found or ""))
        if found is None:
            outcome.checks.append(
                Check(f"Take {item.label}", False, f"nothing matched on {outcome.final_url}", kind="extraction")
            )


def _status_matches(status: int | None, expected: str) -> bool:
    if status is None:
        return False
    for item in (s.strip().lower() for s in expected.split(",")):
        if item.endswith("xx") and str(status)[0] == item[0]:
            return True
        if item == str(status):
            return True
    return False


def _checks(outcome: StepOutcome) -> list[Check]:
    checks = [c for c in outcome.checks if c.kind == "extraction"]
    step = outcome.step
    status = outcome.status
    if not any(a.kind == "status" for a in step.assertions):
        expected = "2xx" if step.follow_redirects else "2xx, 3xx"
        ok = _status_matches(status, expected)
        checks.append(Check(f"Status is {expected}", ok, "" if ok else f"answered {status}", kind="status"))
    for assertion in step.assertions:
        checks.append(_check(assertion, outcome))
    return checks


def _check(assertion: Assertion, outcome: StepOutcome) -> Check:
    kind, value, target = assertion.kind, assertion.value.strip(), assertion.target.strip()
    label = assertion.label
    body = outcome.body_text
    final = outcome.final.final if outcome.final is not None else None
    if kind == "status":
        ok = _status_matches(outcome.status, value)
        return Check(label, ok, "" if ok else f"answered {outcome.status}", kind)
    if kind == "contains":
        ok = value.lower() in body.lower()
        return Check(label, ok, "" if ok else f"“{value}” is not in the answer from {outcome.final_url}", kind)
    if kind == "not_contains":
        ok = value.lower() not in body.lower()
        return Check(label, ok, "" if ok else f"“{value}” is in the answer from {outcome.final_url}", kind)
    if kind == "json":
        document = extraction.parse_json(body)
        if document is extraction.MISSING:
            return Check(label, False, "the answer is not JSON", kind)
        found = extraction.json_path(document, target)
        if found is extraction.MISSING:
            return Check(label, False, f"nothing at {target}", kind)
        if not value:
            return Check(label, True, "", kind)
        ok = extraction.as_text(found) == value or _same_json(found, value)
        return Check(label, ok, "" if ok else f"{target} is {extraction.as_text(found)[:200]}", kind)
    if kind == "header":
        values = final.header_all(target) if final is not None else []
        if not values:
            return Check(label, False, f"no {target} header", kind)
        ok = not value or any(value.lower() in v.lower() for v in values)
        return Check(label, ok, "" if ok else f"{target} is {values[0][:200]}", kind)
    if kind == "cookie":
        line = _latest_set_cookie(outcome, target)
        if line is None:
            return Check(label, False, f"no hop of this step set the cookie {target}", kind)
        attributes = line.partition(";")[2]
        ok = all(part.strip().lower() in attributes.lower() for part in value.split(";") if part.strip())
        return Check(label, ok, "" if ok else f"{target} was set with “{attributes.strip()[:200]}”", kind)
    if kind == "latency":
        budget = int(value) if value.isdigit() else 0
        ok = outcome.ms - outcome.queued_ms <= budget
        return Check(label, ok, "" if ok else f"took {outcome.ms:.0f} ms, over its budget of {budget} ms", kind)
    return Check(label, False, "unknown check", kind)


def _same_json(found: Any, expected: str) -> bool:
    try:
        return bool(json.loads(expected) == found)
    except ValueError:
        return False


def _latest_set_cookie(outcome: StepOutcome, name: str) -> str | None:
    pattern = re.compile(rf"\s*{re.escape(name)}\s*=")
    for hop in reversed(outcome.hops):
        for line in reversed(hop.set_cookie_lines):
            if pattern.match(line):
                return line
    return None


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
