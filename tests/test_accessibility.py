"""What a keyboard or screen-reader user needs on every page, checked without a browser (the page walk in
tests/e2e/test_every_page.py runs axe-core and the keyboard in Chromium)."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.fallback import FallbackStorage
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from tests.conftest import Tenant, login


@pytest.mark.django_db
def test_every_page_starts_with_a_skip_link_to_the_main_landmark(tenant: Tenant) -> None:
    for user in (tenant.consultant, tenant.founder):
        page = login(user).get(reverse("client_detail", args=[tenant.client.code])).content.decode()
        body = page[page.index("<body>") :]
        assert body.split("<a ", 1)[1].startswith('class="skip-link" href="#main">Skip to content</a>')
        assert '<main class="page" id="main" tabindex="-1">' in page


@pytest.mark.django_db
def test_flash_messages_are_said_in_a_live_region(tenant: Tenant) -> None:
    request = RequestFactory().get("/")
    request.user = tenant.consultant
    request.session = {}  # type: ignore[assignment]
    storage = FallbackStorage(request)
    storage.add(constants.SUCCESS, "Client saved.")
    html = render_to_string("base.html", {"messages": storage}, request=request)
    region = html[html.index('<div role="status" aria-live="polite">') :]
    assert region.index("Client saved.") < region.index("</div>")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["client_detail", "client_risks"])
def test_the_audit_progress_sits_in_a_live_region(tenant: Tenant, name: str) -> None:
    page = login(tenant.consultant).get(reverse(name, args=[tenant.client.code])).content.decode()
    # The live region stays put while htmx swaps the audit's status (progress and verdict) inside it.
    assert re.search(
        r'<div role="status" aria-live="polite">\s*<div id="audit-status"[^>]*>\s*<div id="audit-progress"', page
    )
