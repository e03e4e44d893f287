"""In a real browser: the consultant builds the sign-in journey of a demo client from the journeys page (the
template prefilled from its routes), writes the test account's secrets, runs it and watches each step; the
broken app's run says the session is lost on the redirect to another host; the healthy one passes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from launchready.models import Route
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.saas_app import ACCOUNT_EMAIL, ACCOUNT_PASSWORD, APEX_OF, Flaw, api_token
from monitoring.models import JourneySecret
from tests.e2e.conftest import Screens
from tests.factories import PASSWORD, ClientFactory, DomainFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _client(workspace, name: str, apex: str):  # type: ignore[no-untyped-def]
    client = ClientFactory(workspace=workspace, name=name)
    domain = DomainFactory(client=client, name=apex, hosts=["app", "api"])
    for host, path, kind in (
        ("app", "/login", "login"),
        ("app", "/dashboard", "dashboard"),
        ("api", "/v1/me", "api_health"),
    ):
        Route.objects.create(domain=domain, host=host, path=path, kind=kind, expected_statuses=[200])
    return client


def _build_and_run(page, live_server, client, apex: str, screens: Screens, label: str) -> str:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + reverse("journeys", args=[client.code]))
    assert f"POST https://app.{apex}/login" in page.inner_text("main")
    screens.shot(page, f"{label}-templates")
    page.locator("form:has(input[value=sign_in]) button").click()
    page.wait_for_selector("text=Open the sign-in page")
    for name, value in (("email", ACCOUNT_EMAIL), ("password", ACCOUNT_PASSWORD), ("api_token", api_token(apex))):
        page.fill("input[name=name]", name)
        page.fill("input[name=value]", value)
        page.locator("form:has(input[name=value]) button[type=submit]").click()
        page.wait_for_selector(f"text=Secret {name} saved")
    assert page.input_value("input[name=value]") == ""  # written, never shown again
    assert ACCOUNT_PASSWORD not in page.content()
    screens.shot(page, f"{label}-editor")
    page.click("button:has-text('Run now')")
    page.wait_for_selector("section.journey-run", timeout=40_000)
    text = page.inner_text("section.journey-run")
    for details in page.locator("section.journey-run details").all():
        details.evaluate("d => d.open = true")
    screens.shot(page, f"{label}-run")
    assert ACCOUNT_PASSWORD not in page.content() and api_token(apex) not in page.content()
    return str(text)


def test_the_consultant_builds_and_runs_a_sign_in_journey(
    sandbox_env: Sandbox, live_server, browser, screens: Screens
) -> None:  # type: ignore[no-untyped-def]
    consultant = UserFactory(email="dana@northstar.example")
    membership = MembershipFactory(user=consultant, role=Role.OWNER)
    broken = _client(membership.workspace, "Brightpath", APEX_OF[Flaw.COOKIE_WRONG_HOST])
    healthy = _client(membership.workspace, "Studiokit", APEX_OF[Flaw.NONE])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + reverse("account_login"))
    page.fill("input[name=login]", consultant.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()

    apex = APEX_OF[Flaw.COOKIE_WRONG_HOST]
    text = _build_and_run(page, live_server, broken, apex, screens, "failed")
    assert f"the session is lost on the way to {apex}: sessionid was set for app.{apex} only" in text
    assert "Fix:" in text and "not run" in text

    text = _build_and_run(page, live_server, healthy, APEX_OF[Flaw.NONE], screens, "passed")
    assert "All 4 steps passed" in text
    assert JourneySecret.objects.count() == 6
    assert not errors, errors
    page.close()
