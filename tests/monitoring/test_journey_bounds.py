"""A journey is bounded whatever the site does: a hanging answer ends at the journey's deadline, a huge body is
read to its cap and kept to a few thousand characters, steps past the cap never run, and a variable that would
break a header or a body over its cap stops the step with a sentence, not a crash."""

from __future__ import annotations

import json

from launchready.sandbox.runner import Sandbox
from monitoring.journey_evidence import run_evidence
from monitoring.journey_runner import BODY_BYTES, BODY_KEPT, run
from monitoring.journey_steps import MAX_STEPS, Extraction, JourneySpec, StepSpec


def _run(sandbox: Sandbox, domain: str, *steps: StepSpec, deadline: float = 60.0, **variables: str):  # type: ignore[no-untyped-def]
    return run(JourneySpec("Bounds", steps, (domain,), variables=variables), sandbox.net_config(), deadline=deadline)


def test_a_hanging_answer_ends_at_the_journeys_deadline(world_sandbox: Sandbox) -> None:
    result = _run(world_sandbox, "hostile.test", StepSpec("Open", "https://www.hostile.test/"), deadline=2)
    failing = result.failing
    assert failing is not None and failing.explanation is not None
    assert failing.error == "timeout" or "ran out of its 2 s" in failing.problem
    assert "did not answer in time" in failing.explanation.summary or "ran out" in failing.explanation.summary


def test_a_huge_body_is_read_to_its_cap_and_kept_short(world_sandbox: Sandbox) -> None:
    result = _run(world_sandbox, "hostile.test", StepSpec("Styles", "https://www.hostile.test/static/app.css"))
    (step,) = result.steps
    assert step.final is not None and step.final.truncated and len(step.final.body) == BODY_BYTES
    (evidence,) = run_evidence(result)
    assert evidence["response"]["truncated"] and len(evidence["response"]["body"]) == BODY_KEPT
    assert len(json.dumps(evidence)) < 20_000


def test_steps_past_the_cap_never_run(world_sandbox: Sandbox) -> None:
    steps = [StepSpec(f"Step {i}", "https://app.saas-app.test/login") for i in range(MAX_STEPS + 5)]
    result = _run(world_sandbox, "saas-app.test", *steps)
    assert len(result.steps) == MAX_STEPS and result.ok


def test_a_value_that_would_break_a_header_or_a_body_stops_the_step(world_sandbox: Sandbox) -> None:
    take = StepSpec("Take", "https://app.saas-app.test/login", extractions=(Extraction("title", "css", "h1"),))
    header = StepSpec("Send", "https://app.saas-app.test/", headers=(("X-Next", "{{title}} {{line}}"),))
    result = _run(world_sandbox, "saas-app.test", take, header, line="a\r\nX-Evil: 1")
    assert result.steps[1].problem == "the value of X-Next must be one line of at most 2000 characters"
    assert result.steps[1].hops == []
    big = StepSpec("Post", "https://app.saas-app.test/login", method="POST", body_kind="form", form=(("a", "{{big}}"),))
    result = _run(world_sandbox, "saas-app.test", big, big=("x" * 70_000))
    assert result.steps[0].problem == "its form body is over 64 KB once the variables are filled in"
