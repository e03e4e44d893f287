"""A journey run as the evidence people read and the database keeps: each step's request, hops, answer,
extractions and assertions, every string through the run's redactor (no secret, cookie value, token or
password), the answer's body cut to BODY_KEPT characters and every list bounded."""

from __future__ import annotations

from typing import Any

from monitoring.journey_results import HopRecord, StepOutcome
from monitoring.journey_runner import BODY_KEPT, JourneyResult
from monitoring.redaction import MASK, Redactor, is_sensitive_name

MAX_HEADERS_KEPT = 40


def _hop(hop: HopRecord, redactor: Redactor) -> dict[str, Any]:
    return {
        "method": hop.method,
        "url": redactor.text(hop.url),
        "status": hop.status,
        "location": redactor.text(hop.location or ""),
        "ms": round(hop.ms, 1),
        "error": str(hop.error or ""),
        "detail": redactor.text(hop.detail),
        "cookies_sent": hop.sent,
        "cookies_held_back": [{"name": r.name, "reason": redactor.text(r.reason)} for r in hop.withheld],
        "cookies_set": [{"name": c.name, "attributes": c.attributes(), "scope": c.scope} for c in hop.set_cookies],
        "cookies_refused": [{"name": r.name, "reason": redactor.text(r.reason)} for r in hop.refused],
    }


def step_evidence(outcome: StepOutcome, redactor: Redactor) -> dict[str, Any]:
    step = outcome.step
    final = outcome.final.final if outcome.final is not None else None
    body = outcome.body_text
    evidence: dict[str, Any] = {
        "name": step.name,
        "ran": outcome.ran,
        "ok": outcome.ok,
        "method": step.method,
        "url": redactor.text(outcome.url or step.url),
        "ms": round(outcome.ms, 1),
        "queued_ms": round(outcome.queued_ms, 1),
        "request": {
            "headers": [[n, redactor.header(n, v)] for n, v in outcome.request_headers[:MAX_HEADERS_KEPT]],
            "body": _request_body(outcome, redactor),
        },
        "hops": [_hop(h, redactor) for h in outcome.hops],
        "response": None,
        "extracted": [
            {
                "variable": name,
                "found": found,
                "value": MASK if found and (is_sensitive_name(name) or redactor.text(value) != value) else value[:200],
            }
            for name, found, value in outcome.extracted
        ],
        "checks": [
            {"label": redactor.text(c.label), "ok": c.ok, "detail": redactor.text(c.detail)} for c in outcome.checks
        ],
        "problem": redactor.text(outcome.problem),
    }
    if final is not None and final.status is not None:
        evidence["response"] = {
            "status": final.status,
            "headers": [[n, redactor.header(n, v)] for n, v in final.headers[:MAX_HEADERS_KEPT]],
            "body": redactor.text(body[:BODY_KEPT]),
            "truncated": len(body) > BODY_KEPT or bool(outcome.final and outcome.final.truncated),
            "bytes": len(outcome.final.body) if outcome.final else 0,
        }
    if outcome.explanation is not None:
        evidence["explanation"] = {
            "summary": redactor.text(outcome.explanation.summary),
            "detail": redactor.text(outcome.explanation.detail),
            "fix": redactor.text(outcome.explanation.fix),
        }
    return evidence


def _request_body(outcome: StepOutcome, redactor: Redactor) -> str:
    step = outcome.step
    if not outcome.request_body:
        return ""
    if step.body_kind == "form":
        # Field by field: a field named like a password or token is masked whatever its value.
        return "&".join(f"{redactor.text(n)}={redactor.field(n, v)}" for n, v in outcome.request_form)[:BODY_KEPT]
    return redactor.text(outcome.request_body)[:BODY_KEPT]


def run_evidence(result: JourneyResult) -> list[dict[str, Any]]:
    return [step_evidence(s, result.redactor) for s in result.steps]
