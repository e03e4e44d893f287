"""Journeys through the sandbox's fake SaaS app: the healthy app signs in, opens the dashboard and calls the
API; each broken variant fails on the right step with a plain-English explanation of what the customer meets."""

from __future__ import annotations

import json

import pytest

from launchready.sandbox.runner import Sandbox
from launchready.sandbox.saas_app import ACCOUNT_EMAIL, ACCOUNT_PASSWORD, APEX_OF, Flaw, api_token
from monitoring.journey_runner import JourneyResult, run
from monitoring.journey_steps import Assertion, Extraction, JourneySpec, StepSpec, pattern_problem
from monitoring.journey_templates import sign_in


def _spec(apex: str, steps: list[StepSpec], **secrets: str) -> JourneySpec:
    values = {"email": ACCOUNT_EMAIL, "password": ACCOUNT_PASSWORD, "api_token": api_token(apex), **secrets}
    return JourneySpec("Sign in", tuple(steps), (apex,), secrets=values)


def _sign_in(sandbox: Sandbox, flaw: Flaw, api: bool = True) -> JourneyResult:
    apex = APEX_OF[flaw]
    api_url = f"https://api.{apex}/v1/me" if api else ""
    steps = sign_in(f"https://app.{apex}/login", f"https://app.{apex}/dashboard", api_url)
    return run(_spec(apex, steps), sandbox.net_config())


def test_the_healthy_app_signs_in_opens_the_dashboard_and_calls_the_api(world_sandbox: Sandbox) -> None:
    result = _sign_in(world_sandbox, Flaw.NONE)
    assert result.ok, result.summary
    assert [s.ok for s in result.steps] == [True, True, True, True]
    form, signing_in, dashboard, api = result.steps
    assert form.extracted[0][:2] == ("csrf_token", True)
    # The sign-in posted the form, was redirected to the dashboard and carried the new session there.
    assert [(h.method, h.status) for h in signing_in.hops] == [("POST", 302), ("GET", 200)]
    assert signing_in.hops[0].sent == ["csrftoken"]
    assert [c.name for c in signing_in.hops[0].set_cookies] == ["sessionid"]
    assert "sessionid" in signing_in.hops[1].sent
    assert "Welcome back" in dashboard.body_text
    assert '"plan": "pro"' in api.body_text
    assert result.summary.startswith("All 4 steps passed")


def test_a_session_set_for_one_host_and_lost_on_the_redirect_to_another(world_sandbox: Sandbox) -> None:
    result = _sign_in(world_sandbox, Flaw.COOKIE_WRONG_HOST)
    failing = result.failing
    assert failing is not None and failing.step.name == "Sign in"
    apex = APEX_OF[Flaw.COOKIE_WRONG_HOST]
    explanation = failing.explanation
    assert explanation is not None
    assert f"the session is lost on the way to {apex}: sessionid was set for app.{apex} only" in explanation.summary
    assert "for that host only (no Domain attribute)" in explanation.detail
    assert "a customer who signs in lands signed out" in explanation.detail
    assert f"Domain={apex}" in explanation.fix
    # Each hop is recorded: the post, the dashboard on the other host without the cookie, and back to sign-in.
    assert [h.url for h in failing.hops] == [
        f"https://app.{apex}/login",
        f"https://{apex}/dashboard",
        f"https://{apex}/login?next=/dashboard",
    ]
    assert "sessionid" in {r.name for r in failing.hops[1].withheld}
    assert [s.ran for s in result.steps] == [True, True, False, False]


def test_a_redirect_loop_after_sign_in(world_sandbox: Sandbox) -> None:
    result = _sign_in(world_sandbox, Flaw.LOOP_AFTER_SIGN_IN)
    failing = result.failing
    assert failing is not None and failing.step.name == "Sign in" and failing.explanation is not None
    apex = APEX_OF[Flaw.LOOP_AFTER_SIGN_IN]
    assert failing.explanation.summary == (
        f"“Sign in” ends in a redirect loop: app.{apex}/dashboard → app.{apex}/login → app.{apex}/dashboard"
    )
    assert "sessionid" in failing.explanation.detail and "never reaches the page" in failing.explanation.detail


def test_a_form_refused_as_a_forgery(world_sandbox: Sandbox) -> None:
    result = _sign_in(world_sandbox, Flaw.CSRF_REJECTED)
    failing = result.failing
    assert failing is not None and failing.step.name == "Sign in" and failing.explanation is not None
    assert failing.explanation.summary == "“Sign in” was refused as a cross-site request forgery: 403 (Forbidden)"
    assert "The form's own token ({{csrf_token}}" in failing.explanation.detail
    assert "nobody can sign in" in failing.explanation.detail
    assert "CSRF_TRUSTED_ORIGINS" in failing.explanation.fix


def test_the_dashboard_failing_once_signed_in(world_sandbox: Sandbox) -> None:
    result = _sign_in(world_sandbox, Flaw.DASHBOARD_500)
    failing = result.failing
    assert failing is not None and failing.step.name == "Sign in" and failing.explanation is not None
    assert failing.explanation.summary == "“Sign in” answered 500 (Internal Server Error) for a signed-in customer"
    assert "the sign-in works, the page after it does not" in failing.explanation.detail


def test_a_slow_api_over_its_budget(world_sandbox: Sandbox) -> None:
    result = _sign_in(world_sandbox, Flaw.SLOW_API)
    failing = result.failing
    assert failing is not None and failing.step.name == "Call the API" and failing.explanation is not None
    assert failing.explanation.summary.startswith("“Call the API” took 2.")
    assert "over its budget of 2000 ms" in failing.explanation.summary
    assert [s.ok for s in result.steps[:3]] == [True, True, True]


def test_wrong_credentials_say_so(world_sandbox: Sandbox) -> None:
    apex = APEX_OF[Flaw.NONE]
    steps = sign_in(f"https://app.{apex}/login", f"https://app.{apex}/dashboard")
    result = run(_spec(apex, steps, password="not the password"), world_sandbox.net_config())
    failing = result.failing
    assert failing is not None and failing.explanation is not None
    assert failing.explanation.summary == (
        "“Sign in” answered with the sign-in form again: the app refused the test account's email or password"
    )


def test_a_token_from_a_json_sign_in_calls_the_api(world_sandbox: Sandbox) -> None:
    apex = APEX_OF[Flaw.NONE]
    steps = [
        StepSpec(
            name="Get a token",
            url=f"https://api.{apex}/v1/auth/token",
            method="POST",
            body_kind="json",
            json_body='{"email": "{{email}}", "password": "{{password}}"}',
            extractions=(Extraction("token", "json", "access_token"),),
            assertions=(Assertion("json", "Bearer", "token_type"),),
        ),
        StepSpec(
            name="Who am I",
            url=f"https://api.{apex}/v1/me",
            headers=(("Authorization", "Bearer {{token}}"),),
            assertions=(
                Assertion("json", ACCOUNT_EMAIL, "user.email"),
                Assertion("json", "true", "projects[0].live"),
                Assertion("header", "application/json", "Content-Type"),
            ),
        ),
    ]
    result = run(_spec(apex, steps), world_sandbox.net_config())
    assert result.ok, result.summary
    # Without the token, the API refuses, and the explanation says the token was not taken.
    steps[1] = StepSpec(name="Who am I", url=f"https://api.{apex}/v1/me", headers=(("Authorization", "Bearer nope"),))
    refused = run(_spec(apex, steps), world_sandbox.net_config())
    assert refused.failing is not None and refused.failing.explanation is not None
    assert refused.failing.explanation.summary == "“Who am I” answered 401 (Unauthorized), where 2xx was expected"
    assert "The token sent in the Authorization header was not accepted" in refused.failing.explanation.detail


def test_cookie_attributes_are_asserted(world_sandbox: Sandbox) -> None:
    apex = APEX_OF[Flaw.NONE]
    steps = sign_in(f"https://app.{apex}/login", f"https://app.{apex}/dashboard")
    good = StepSpec(**{**steps[1].__dict__, "assertions": (Assertion("cookie", "Secure; HttpOnly", "sessionid"),)})
    result = run(_spec(apex, [steps[0], good]), world_sandbox.net_config())
    assert result.ok, result.summary
    wrong = StepSpec(**{**steps[1].__dict__, "assertions": (Assertion("cookie", f"Domain={apex}", "sessionid"),)})
    result = run(_spec(apex, [steps[0], wrong]), world_sandbox.net_config())
    assert result.failing is not None and result.failing.explanation is not None
    assert result.failing.explanation.summary == f"“Sign in”: Cookie sessionid set with “Domain={apex}” failed"
    assert "sessionid was set with “Path=/; Secure; HttpOnly; SameSite=Lax”" in result.failing.explanation.detail


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        (StepSpec("Uses a variable", "https://app.saas-app.test/{{nowhere}}"), "uses {{nowhere}}, which no variable"),
        (StepSpec("Another host", "https://launch-ready.test/"), "launch-ready.test is not on this client's domains"),
    ],
)
def test_a_step_that_cannot_run_says_why(world_sandbox: Sandbox, step: StepSpec, problem: str) -> None:
    result = run(_spec("saas-app.test", [step]), world_sandbox.net_config())
    assert result.failing is not None and result.failing.explanation is not None
    assert problem in result.failing.explanation.summary
    assert result.failing.hops == []  # nothing was sent


def test_a_redirect_loop_between_hosts_is_bounded_and_named(world_sandbox: Sandbox) -> None:
    result = run(
        JourneySpec("Home", (StepSpec("Open the home page", "https://redirect-loop.test/"),), ("redirect-loop.test",)),
        world_sandbox.net_config(),
    )
    assert result.failing is not None and result.failing.explanation is not None
    assert result.failing.explanation.summary == (
        "“Open the home page” ends in a redirect loop: "
        "redirect-loop.test/ → www.redirect-loop.test/ → redirect-loop.test/"
    )
    many = run(
        JourneySpec("Home", (StepSpec("Open", "https://thirty-redirects.test/"),), ("thirty-redirects.test",)),
        world_sandbox.net_config(),
    )
    assert many.failing is not None and many.failing.too_many_redirects and len(many.failing.hops) == 11
    assert many.failing.explanation is not None and "redirected more than 10 times" in many.failing.explanation.summary


def test_a_value_not_found_names_what_was_looked_for(world_sandbox: Sandbox) -> None:
    step = StepSpec(
        "Open the sign-in page",
        "https://app.launch-ready.test/login",
        extractions=(Extraction("csrf_token", "css", "input[name=csrfmiddlewaretoken]", "value"),),
    )
    result = run(JourneySpec("Sign in", (step,), ("launch-ready.test",)), world_sandbox.net_config())
    assert result.failing is not None and result.failing.explanation is not None
    assert result.failing.explanation.summary == "“Open the sign-in page” found no value for {{csrf_token}}"
    assert result.failing.explanation.detail.startswith(
        "The CSS selector input[name=csrfmiddlewaretoken] matched nothing in the answer from "
        "app.launch-ready.test/login, which answered 200 (OK): the page changed"
    )


def test_in_a_round_time_an_answer_waited_for_the_busy_monitor_is_not_judged_against_the_budget(
    world_sandbox: Sandbox,
) -> None:
    """The scheduler's loop runs many journeys: a step whose answer came in time but waited while the loop
    was busy with others is not over its budget, and its evidence says how long it waited."""
    import asyncio
    import time

    from monitoring.journey_scheduler import run_round

    apex = "slow-api.test"  # its API health answers 200 after 0.6 s: the answer comes while the loop is held
    steps = [
        StepSpec(
            name="Check the API",
            url=f"https://api.{apex}/health",
            assertions=(Assertion("status", "200"), Assertion("latency", "1000")),
        )
    ]

    async def busy_round() -> list[JourneyResult]:
        async def hog() -> None:
            asked = world_sandbox.web.requests  # type: ignore[union-attr]
            for _ in range(5000):  # the step has begun once its request reaches the sandbox
                if world_sandbox.web.requests > asked:  # type: ignore[union-attr]
                    break
                await asyncio.sleep(0.001)
            time.sleep(1.5)  # another journey's work holds the loop while the answer comes in

        hogging = asyncio.create_task(hog())
        results = await run_round([_spec(apex, steps)], world_sandbox.net_config())
        await hogging
        return results

    (result,) = asyncio.run(busy_round())
    (step,) = result.steps
    assert step.ms > 1000 and step.queued_ms >= step.ms - 1000, (step.ms, step.queued_ms)
    assert result.ok, result.summary
    # Alone, with nothing holding the loop, the same step is judged on all of its time.
    (alone,) = run(_spec(apex, steps), world_sandbox.net_config()).steps
    assert alone.queued_ms == 0 and alone.ok


def test_a_redirect_to_another_origin_does_not_carry_the_token(world_sandbox: Sandbox) -> None:
    """As browsers and httpx do: the step's authorization and variable-filled headers stay with the origin they
    were written for; a redirect within it keeps them, and plain headers travel either way."""
    token = "tok_live_4f9c2a7d1e8b"

    def hop(path: str) -> dict[str, str]:
        step = StepSpec(
            "Call the API",
            f"https://token-redirect.test{path}",
            headers=(("Authorization", "Bearer {{api_token}}"), ("X-Team", "{{team}}"), ("X-Client", "ci")),
        )
        spec = JourneySpec("API", (step,), ("token-redirect.test",), secrets={"api_token": token, "team": "t1"})
        result = run(spec, world_sandbox.net_config())
        (outcome,) = result.steps
        assert [h.status for h in outcome.hops] == [302, 200]
        return json.loads(outcome.body_text)

    elsewhere = hop("/")
    assert "authorization" not in elsewhere and "x-team" not in elsewhere and token not in json.dumps(elsewhere)
    assert elsewhere["x-client"] == "ci"
    same = hop("/same")
    assert same["authorization"] == f"Bearer {token}" and same["x-team"] == "t1" and same["x-client"] == "ci"


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|aa)*z", "(.|.)*z", r"(.|\s)*zzz", "(x|xy){2,}"])
def test_a_pattern_that_backtracks_without_end_is_refused(pattern: str) -> None:
    assert "can run for ever" in pattern_problem(pattern)


@pytest.mark.parametrize("pattern", [r'name="csrf" value="([^"]+)"', "(?:one|two)", r"token=(\w+)", "(foo|bar)-id"])
def test_a_usual_pattern_is_accepted(pattern: str) -> None:
    assert pattern_problem(pattern) == ""
