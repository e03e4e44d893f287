"""The AI-assistant probe on the sandbox's assistants: the leaky one leaks, the safe one does not, the
hanging and the failing ones are reported; bad configuration gets a clear answer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from audits.assistant import (
    AnswerMissing,
    AssistantConfigError,
    AssistantSpec,
    build_request,
    check_template,
    extract_answer,
    redteam_set,
)
from audits.catalog import render, severity_of
from audits.checks.assistant import check_assistant
from audits.findings import Finding, Severity
from audits.keyshape import key_shaped, redact
from audits.target import AuditTarget
from launchready.net import Net
from launchready.sandbox.assistants import (
    BROKEN_PATH,
    CHAT_PATH,
    FAKE_SECRET_KEY,
    GARBAGE_PATH,
    HANGING_HOST,
    HUGE_PATH,
    LEAKY_CANARY,
    LEAKY_HOST,
    SAFE_HOST,
)
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import World, build_assistants
from launchready.sandbox.web import WebSandbox

LEAKY = AssistantSpec(url=f"https://{LEAKY_HOST}{CHAT_PATH}", canary=LEAKY_CANARY, answer_path="reply", per_second=50)
SAFE = replace(LEAKY, url=f"https://{SAFE_HOST}{CHAT_PATH}", canary="LR-CANARY-0123456789AB")


@pytest.fixture(scope="module")
def assistants() -> Iterator[Sandbox]:
    """The sandbox assistants alone (the shared world serves them too, for the demo)."""
    world = World()
    build_assistants(world)
    with Sandbox(world.zone, web=WebSandbox(world.sites)) as sandbox:
        yield sandbox


def probe(sandbox: Sandbox, spec: AssistantSpec, apex: str = "askmira.test") -> list[Finding]:
    async def run() -> list[Finding]:
        async with Net(sandbox.net_config(), deadline=60) as net:
            return await check_assistant(AuditTarget(apex=apex, assistant=spec), net)

    return asyncio.run(run())


def by_id(findings: list[Finding]) -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = {}
    for finding in findings:
        found.setdefault(finding.check_id, []).append(finding)
    return found


def test_it_finds_the_planted_leaks_in_the_leaky_assistant(assistants: Sandbox) -> None:
    found = by_id(probe(assistants, LEAKY))
    canary = found["assistant.leak.canary"][0]
    assert severity_of(canary) == Severity.HIGH
    assert "extract.verbatim" in canary.evidence["prompts"] and "inject.ignore" in canary.evidence["prompts"]
    assert LEAKY_CANARY in canary.evidence["reply"]
    key = found["assistant.leak.key"][0]
    assert severity_of(key) == Severity.HIGH and key.params["provider"] == "Stripe secret key"
    people = found["assistant.leak.personal_data"][0]
    assert people.params["count"] == 3 and "j***@example.com" in people.evidence["addresses"]
    assert found["assistant.probed"][0].params["sent"] == len(redteam_set())
    for finding in (canary, key, people):
        text = render(finding)
        assert "…" not in text["title"] + text["explanation"] + text["fix"], text


def test_leak_evidence_never_holds_the_key_or_the_addresses_whole(assistants: Sandbox) -> None:
    findings = probe(assistants, LEAKY)
    dumped = json.dumps([[f.evidence, f.params, render(f)] for f in findings])
    assert FAKE_SECRET_KEY not in dumped
    assert "jane.doe@example.com" not in dumped and "omar.haddad@example.net" not in dumped
    assert redact(FAKE_SECRET_KEY) in dumped


def test_the_safe_assistant_leaks_nothing(assistants: Sandbox) -> None:
    found = by_id(probe(assistants, SAFE, apex="launch-ready.test"))
    assert set(found) == {"assistant.probed"}
    assert found["assistant.probed"][0].params["sent"] == len(redteam_set())


def test_the_company_s_own_support_address_is_not_a_leak(assistants: Sandbox) -> None:
    # Mira's greeting names support@askmira.test: the client's own address, not another user's.
    spec = replace(LEAKY, max_prompts=1)
    found = by_id(probe(assistants, spec))
    assert "assistant.leak.personal_data" not in found


def test_a_hanging_assistant_is_reported_and_not_waited_on_for_every_prompt(assistants: Sandbox) -> None:
    spec = replace(SAFE, url=f"https://{HANGING_HOST}{CHAT_PATH}", timeout=1.0)
    started = time.monotonic()
    found = by_id(probe(assistants, spec, apex="launch-ready.test"))
    assert time.monotonic() - started < 6  # two timeouts, then the probe stops
    timeout = found["assistant.timeout"][0]
    assert severity_of(timeout) == Severity.MEDIUM
    assert timeout.params == {"count": 2, "sent": 2, "seconds": 1}
    assert not any(k.startswith("assistant.leak") for k in found)


def test_an_assistant_that_answers_with_errors_is_reported(assistants: Sandbox) -> None:
    spec = replace(SAFE, url=f"https://{SAFE_HOST}{BROKEN_PATH}", max_prompts=3)
    found = by_id(probe(assistants, spec, apex="launch-ready.test"))
    error = found["assistant.error"][0]
    assert severity_of(error) == Severity.MEDIUM
    assert error.params["count"] == 3 and "HTTP 504" in error.params["detail"]


@pytest.mark.parametrize(("path", "detail"), [(HUGE_PATH, "the response is not JSON"), (GARBAGE_PATH, "protocol")])
def test_a_flood_or_garbage_ends_in_an_error_finding_quickly(assistants: Sandbox, path: str, detail: str) -> None:
    spec = replace(SAFE, url=f"https://{SAFE_HOST}{path}", max_prompts=2)
    started = time.monotonic()
    found = by_id(probe(assistants, spec, apex="launch-ready.test"))
    assert time.monotonic() - started < 10  # 64 KB read of each 50 MB answer, not the whole
    assert detail in found["assistant.error"][0].params["detail"]
    assert found["assistant.probed"][0].params["sent"] == 2


def test_an_answer_missing_from_the_configured_place_is_an_error(assistants: Sandbox) -> None:
    spec = replace(SAFE, answer_path="choices.0.text", max_prompts=2)
    found = by_id(probe(assistants, spec, apex="launch-ready.test"))
    assert "no choices.0.text in the response" in found["assistant.error"][0].params["detail"]


def test_an_unreachable_endpoint_is_one_finding(assistants: Sandbox) -> None:
    spec = replace(SAFE, url="https://nowhere.launch-ready.test/api/chat")
    findings = probe(assistants, spec, apex="launch-ready.test")
    assert [f.check_id for f in findings] == ["assistant.unreachable"]
    assert "nowhere.launch-ready.test" in render(findings[0])["explanation"]


def test_the_probe_is_paced(assistants: Sandbox) -> None:
    spec = replace(SAFE, per_second=4.0, max_prompts=4)
    started = time.monotonic()
    probe(assistants, spec, apex="launch-ready.test")
    assert time.monotonic() - started >= 0.75  # four prompts at four a second


def test_the_probe_sends_the_secret_header_and_the_message_json_encoded(assistants: Sandbox) -> None:
    spec = replace(SAFE, headers={"Authorization": "Bearer probe-secret"}, max_prompts=1)
    before = len(assistants.web.received)
    probe(assistants, spec, apex="launch-ready.test")
    request = next(r for r in assistants.web.received[before:] if r["host"] == SAFE_HOST)
    assert request["headers"]["authorization"] == "Bearer probe-secret"  # type: ignore[index]
    assert json.loads(request["body"])["message"] == redteam_set()[0].message  # type: ignore[arg-type]


def test_request_templates_keep_the_message_encoded() -> None:
    spec = AssistantSpec(url="https://x.test/chat", canary="c", request_template='{"input": {"text": "{{message}}"}}')
    _, headers, body = build_request(spec, 'quote " and \\ backslash')
    assert json.loads(body or b"")["input"]["text"] == 'quote " and \\ backslash'
    assert headers["Content-Type"] == "application/json"
    form = replace(spec, body_format="form", request_template="q={{message}}&channel=web")
    _, headers, body = build_request(form, "a&b=c")
    assert body == b"q=a%26b%3Dc&channel=web"
    get = replace(form, method="GET", url="https://x.test/chat?v=1")
    url, _, body = build_request(get, "hello there")
    assert url == "https://x.test/chat?v=1&q=hello+there&channel=web" and body is None


@pytest.mark.parametrize(
    ("template", "body_format", "problem"),
    [
        ('{"message": "hi"}', "json", "placeholder"),
        ('{"message": "{{message}}"', "json", "not valid JSON"),
        ("{{message}}", "form", "Form fields"),
    ],
)
def test_a_bad_template_gets_a_clear_answer(template: str, body_format: str, problem: str) -> None:
    with pytest.raises(AssistantConfigError, match=problem):
        check_template(template, body_format)


def test_answers_are_found_by_their_path() -> None:
    body = json.dumps({"choices": [{"message": {"content": "hello"}}]})
    assert extract_answer(body, "choices.0.message.content") == "hello"
    assert extract_answer("plain text", "") == "plain text"
    with pytest.raises(AnswerMissing):
        extract_answer(body, "choices.3.message")
    with pytest.raises(AnswerMissing):
        extract_answer("<html>", "reply")


def test_the_redteam_set_is_data_and_covers_the_attacks() -> None:
    categories = {p.category for p in redteam_set()}
    assert {
        "prompt injection",
        "system-prompt extraction",
        "other users' records",
        "key exfiltration",
        "identity spoofing",
        "encoding trick",
    } <= categories


def test_a_malformed_redteam_file_is_refused_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "set.json"
    bad.write_text(json.dumps({"prompts": [{"id": "x", "category": "y"}]}))
    with pytest.raises(AssistantConfigError, match="prompt 1 needs text for id, category and message"):
        redteam_set(bad)
    bad.write_text("not json")
    with pytest.raises(AssistantConfigError, match="cannot be read"):
        redteam_set(bad)


def test_key_shapes_are_recognised_and_publishable_keys_are_not() -> None:
    text = "AKIAABCDEFGHIJKLMNOP ghp_" + "a" * 36 + " pk_live_" + "b" * 24 + " postgres://app:hunter2@db.internal/app"
    providers = {m.provider for m in key_shaped(text)}
    assert providers == {"AWS access key", "GitHub token", "Database URL with password"}
