"""Bidirectional controls from outside are shown as marks on pages and in emails, never obeyed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from launchready.bidi import neutralise
from tests.conftest import Tenant, login


def test_it_shows_every_override_embedding_and_isolate_as_a_mark() -> None:
    assert neutralise("Acme\u202egnp.exe") == "Acme[U+202E]gnp.exe"
    assert neutralise("a\u202ab\u202bc\u202cd\u202de\u2066f\u2067g\u2068h\u2069") == (
        "a[U+202A]b[U+202B]c[U+202C]d[U+202D]e[U+2066]f[U+2067]g[U+2068]h[U+2069]"
    )


def test_it_leaves_honest_right_to_left_text_alone() -> None:
    text = "שלום עולם · مرحبا \u200f"  # Hebrew, Arabic and a right-to-left mark need no override
    assert neutralise(text) == text


@pytest.mark.django_db
def test_a_name_with_an_override_cannot_reverse_the_page_around_it(tenant: Tenant) -> None:
    tenant.client.name = "Acme\u202e"
    tenant.client.save()
    page = login(tenant.consultant).get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert "\u202e" not in page and "Acme[U+202E]" in page


@pytest.mark.django_db
def test_json_keeps_the_text_as_it_was_sent(tenant: Tenant) -> None:
    tenant.client.name = "Acme\u202e"
    tenant.client.save()
    response = login(tenant.consultant).get(reverse("client_risks_json", args=[tenant.client.code]))
    assert response["Content-Type"].startswith("application/json")
    assert "Acme\u202e" in response.json()["client"] or "\\u202e" in response.content.decode().lower()
