"""In a real browser: the consultant runs the quick audit from the client page, watches it progress
live, and reads the ranked risk list with its go/no-go verdict and copyable fixes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from launchready.models import Route
from launchready.sandbox.runner import Sandbox
from tests.e2e.conftest import Screens
from tests.factories import PASSWORD, ClientFactory, DomainFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_consultant_runs_an_audit_and_reads_the_risks(
    sandbox_env: Sandbox, live_server, worker, browser, screens: Screens
) -> None:  # type: ignore[no-untyped-def]
    consultant = UserFactory(email="dana@northstar.example")
    membership = MembershipFactory(user=consultant, role=Role.OWNER)
    client = ClientFactory(workspace=membership.workspace, name="Studiokit")
    domain = DomainFactory(client=client, name="env-exposed.test", hosts=["app", "api"], mail_providers=["google"])
    Route.objects.create(domain=domain, host="app", path="/login", kind="login", expected_statuses=[200])

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + reverse("account_login"))
    page.fill("input[name=login]", consultant.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(live_server.url + reverse("client_detail", args=[client.code]))
    assert "Not audited yet" in page.inner_text("main")
    page.click("button:has-text('Run audit')")
    page.wait_for_selector("[data-audit=queued], [data-audit=running], .verdict-stop", timeout=30000)
    assert "Not audited yet" not in page.inner_text("main")
    page.evaluate("window.stillTheSamePage = true")
    # No reload: the banner turns into the verdict, then the findings refresh in place.
    page.wait_for_selector(".verdict-stop", timeout=60000)
    page.wait_for_selector("details.finding", timeout=10000)
    assert 'hx-trigger="every 2s"' not in page.content()  # the polling stopped with the run
    assert page.evaluate("window.stillTheSamePage === true")  # the verdict and findings came without a reload
    text = page.inner_text("main")
    assert "No-go" in text
    assert "serves the app's .env file" in text
    first = page.locator("details.finding").first
    first.click()
    assert "Block dotfiles at the web server" in first.inner_text()
    screens.shot(page, "risk-list")
    page.select_option("select[name=severity]", "medium")
    page.wait_for_url("**severity=medium**")
    assert ".env file" not in page.inner_text("main")
    screens.shot(page, "risk-list-filtered")
    assert not errors, errors
    page.close()
