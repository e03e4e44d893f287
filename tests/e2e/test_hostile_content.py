"""In a real browser: the client name that once made htmx send CSRF-valid POSTs from the report preview is
shown as text, sends nothing, and htmx runs with eval, script tags and other origins turned off."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from accounts.models import Role
from monitoring.deploys import deploy_record, token_create
from tests.e2e.conftest import Screens
from tests.factories import PASSWORD, ClientFactory, MembershipFactory, SprintFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The name that was tried from outside: htmx obeyed its attributes on the report preview.
ATTACK = (
    '<b hx-post=../../contacts/new/ hx-trigger=load hx-include=[name=csrfmiddlewaretoken] hx-vals={"name":"x"}>Acme'
)


def test_hostile_names_on_the_report_preview_send_nothing(live_server: Any, browser: Any, screens: Screens) -> None:
    workspace = WorkspaceFactory(name=ATTACK)
    consultant = MembershipFactory(workspace=workspace, role=Role.OWNER).user
    client = ClientFactory(workspace=workspace, name=ATTACK)
    SprintFactory(client=client)
    token, _ = token_create(client=client, name="CI", user=consultant)
    deploy_record(token=token, version=ATTACK[:100], commit="abc1234", environment='"><b hx-get=/ hx-trigger=load>')

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.goto(live_server.url + reverse("account_login"))
    page.fill("input[name=login]", consultant.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    posts.clear()  # the sign-in itself

    for name in ("report_preview", "client_detail", "client_monitoring"):
        page.goto(live_server.url + reverse(name, args=[client.code]))
        page.wait_for_load_state("networkidle")
        assert page.locator("b[hx-post]").count() == 0, f"{name}: the name became an element"
        assert "hx-post=../../contacts/new/" in page.inner_text("body"), f"{name}: the name is shown as text"
        screens.shot(page, name)
    assert posts == [], "nothing was posted by the pages themselves"

    config = page.evaluate(
        "() => ({eval: htmx.config.allowEval, scripts: htmx.config.allowScriptTags,"
        " self: htmx.config.selfRequestsOnly, history: htmx.config.historyCacheSize})"
    )
    assert config == {"eval": False, "scripts": False, "self": True, "history": 0}
    contacts = client.contacts.count()
    assert contacts == 0, "no contact was made by a hostile name"
