"""In a real browser: a consultant adds a client with a domain and routes and invites its founder; the founder
accepts, signs in and sees only that client."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import Role
from launchready.models import Client
from launchready.sandbox.smtp import SmtpSink, text_body
from tests.e2e.conftest import Screens
from tests.factories import PASSWORD, ClientFactory, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FOUNDER_PASSWORD = "launch-day-2026!"


def _sign_in(page, base: str, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + reverse("account_login"))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")


def test_consultant_invites_a_founder_who_sees_only_their_client(
    live_server, browser, worker, smtp_sink: SmtpSink, screens: Screens
) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    workspace = WorkspaceFactory(name="Northstar Launch Studio")
    consultant = UserFactory(email="dana@northstar.example", name="Dana Okafor")
    MembershipFactory(user=consultant, workspace=workspace, role=Role.OWNER)
    other_client = ClientFactory(workspace=workspace, name="Someone Else Ltd")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(base + reverse("account_login"))
    screens.shot(page, "sign-in")
    _sign_in(page, base, consultant.email, PASSWORD)
    page.wait_for_url(base + reverse("dashboard"))
    screens.shot(page, "dashboard")

    page.click("text=+ Add a client")
    page.fill("input[name=name]", "Brightpath Coaching")
    page.select_option("select[name=product_kind]", "coaching_dashboard")
    page.select_option("select[name=stage]", "demo_to_launch")
    page.select_option("select[name=timezone]", "Europe/London")
    screens.shot(page, "client-form")
    page.click("main button[type=submit]")

    page.fill("input[name=name]", "https://www.Brightpath-Coaching.example/pricing")
    page.fill("input[name=hosts_text]", "app, api")
    page.check("input[name=mail_providers][value=google]")
    page.fill("input[name=selectors_text]", "google")
    page.select_option("select[name=hosting_provider]", "vercel")
    screens.shot(page, "domain-form")
    page.click("main button[type=submit]")

    page.wait_for_selector("text=Add a route on brightpath-coaching.example")
    page.select_option("select[name=host]", "app")
    page.fill("input[name=path]", "/login")
    page.select_option("select[name=kind]", "login")
    page.click("button[name=add_another]")
    page.select_option("select[name=host]", "")
    page.fill("input[name=path]", "/")
    page.select_option("select[name=kind]", "homepage")
    screens.shot(page, "route-form")
    page.click("button:has-text('Add route')")

    client = Client.objects.get(name="Brightpath Coaching")
    page.wait_for_url(base + reverse("client_detail", args=[client.code]))
    assert page.locator(".domain-name").inner_text() == "brightpath-coaching.example"
    assert page.locator("text=https://app.brightpath-coaching.example/login").count() == 1

    page.click("text=Start a 48-hour sprint")
    page.click("button:has-text('Start sprint')")
    page.wait_for_selector("#countdown")
    assert re.search(r"4[78] h \d\d min left|47 h|48 h", page.locator("#countdown").inner_text())
    page.goto(base + reverse("client_detail", args=[client.code]))

    page.fill("#people input[name=email]", "amelia@brightpath-coaching.example")
    page.click("button:has-text('Invite founder')")
    page.wait_for_selector("text=Invitation sent to amelia@brightpath-coaching.example")
    screens.shot(page, "client-page")

    page.set_viewport_size({"width": 390, "height": 844})
    screens.shot(page, "client-page-phone")
    page.goto(base + reverse("dashboard"))
    screens.shot(page, "dashboard-phone")
    context.close()

    message = smtp_sink.wait_for(1, timeout=30)[0]
    assert message["To"] == "amelia@brightpath-coaching.example"
    link = re.search(r"https?://\S+/invitations/\S+/", text_body(message)).group(0)  # type: ignore[union-attr]
    link = base + link[link.index("/invitations/") :]

    founder = browser.new_context(viewport={"width": 390, "height": 844})
    page = founder.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(link)
    assert "Brightpath Coaching" in page.inner_text("main")
    screens.shot(page, "founder-invitation")
    page.click("text=Create your account")
    page.fill("input[name=email]", "amelia@brightpath-coaching.example")
    page.fill("input[name=password1]", FOUNDER_PASSWORD)
    page.fill("input[name=password2]", FOUNDER_PASSWORD)
    screens.shot(page, "founder-sign-up")
    page.click("main button[type=submit]")
    page.click("button:has-text('Accept and continue')")
    page.wait_for_url(base + reverse("client_detail", args=[client.code]))

    page.click("button:has-text('Sign out')")
    _sign_in(page, base, "amelia@brightpath-coaching.example", FOUNDER_PASSWORD)
    page.wait_for_url(base + reverse("client_detail", args=[client.code]))
    text = page.inner_text("body")
    assert "Brightpath Coaching" in text and "Someone Else Ltd" not in text
    assert "Edit client" not in text and "Invite founder" not in text
    screens.shot(page, "founder-home")
    assert not errors, errors  # no script, style or policy error on any page so far

    response = page.goto(base + reverse("client_detail", args=[other_client.code]))
    assert response is not None and response.status == 404
    screens.shot(page, "founder-foreign-client")
    page.goto(base + reverse("dashboard"))
    assert page.url == base + reverse("client_detail", args=[client.code])
    founder.close()
