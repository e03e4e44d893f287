"""Bidirectional-text controls that come from outside are shown, never obeyed.

A right-to-left override in a client's name, a deploy's environment or a TXT record would reverse the
product's own words beside it ("Tue 1 Dec" read backwards, an address turned around). The embedding,
override and isolate controls (U+202A-U+202E, U+2066-U+2069) are never typed for honest text (Arabic and
Hebrew need none of them), so every page, email and export prints them as a visible mark instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# The same characters in UTF-8, so a page is searched without being decoded (most pages have none).
_UTF8_CONTROLS = re.compile(rb"\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")


def neutralise(text: str) -> str:
    """The text with each bidirectional control replaced by a visible mark such as [U+202E]."""
    return CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


class BidiControlMiddleware:
    """Every HTML page leaves with its bidirectional controls shown as marks."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.streaming or not response.get("Content-Type", "").startswith(("text/html", "text/markdown")):
            return response
        charset = response.charset or "utf-8"
        if charset.lower().replace("_", "-") in ("utf-8", "utf8") and not _UTF8_CONTROLS.search(response.content):
            return response
        text = response.content.decode(charset, errors="replace")
        if CONTROLS.search(text):
            response.content = neutralise(text).encode(charset)
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response
