"""In a real browser: a consultant sets up the AI-assistant probe for a chatbot client, runs the audit,
finds the assistant's leaks on the risk list, and the owner reads who did what in the activity log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from launchready.models import Client
from launchready.sandbox.assistants import CHAT_PATH, LEAKY_HOST
from launchready.sandbox.runner import Sandbox
from tests.e2e.conftest import Screens
from tests.factories import PASSWORD, ClientFactory, DomainFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_consultant_probes_the_assistant_and_the_owner_reads_the_activity_log(
    sandbox_env: Sandbox, live_server, worker, browser, screens: Screens
) -> None:  # type: ignore[no-untyped-def]
    owner = UserFactory(email="dana@northstar.example")
    membership = MembershipFactory(user=owner, role=Role.OWNER)
    client = ClientFactory(workspace=membership.workspace, name="Mira AI", product_kind=Client.ProductKind.AI_CHATBOT)
    DomainFactory(client=client, name="askmira.test", hosts=["app", "api"], mail_providers=["resend"])

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + reverse("account_login"))
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(live_server.url + reverse("client_detail", args=[client.code]))
    page.click("a:has-text('AI assistant')")
    assert "Plant the canary" in page.inner_text("main")
    page.fill("input[name=url]", f"https://{LEAKY_HOST}{CHAT_PATH}")
    page.fill("input[name=answer_path]", "reply")
    page.fill("textarea[name=headers_text]", "Authorization: Bearer widget-secret-123")
    screens.shot(page, "assistant-settings")
    page.click("button:has-text('Save')")
    text = page.inner_text("main")
    assert "Assistant probe saved" in text and "Authorization" in text and "widget-secret-123" not in text
    page.click("button:has-text('Run the audit now')")
    # The banner says the audit is running and, once it ends, shows the verdict in place.
    page.wait_for_selector(".verdict-go, .verdict-stop", timeout=120000)
    page.goto(live_server.url + reverse("client_risks", args=[client.code]) + "?area=assistant")
    text = page.inner_text("main")
    assert "The AI assistant hands out a Stripe secret key" in text
    assert "The AI assistant discloses other people's details" in text
    assert "sk_live_51SandboxFakeKey" not in text  # shown redacted
    screens.shot(page, "assistant-risks")
    page.goto(live_server.url + reverse("activity_log"))
    text = page.inner_text("main")
    assert "Signed in" in text and "Configured the AI-assistant probe" in text
    assert "widget-secret-123" not in text
    screens.shot(page, "activity-log")
    assert not errors, errors
    page.close()
