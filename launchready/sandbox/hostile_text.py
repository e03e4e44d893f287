"""Hostile text: the strings an attacker puts wherever the product shows text, and a sandbox domain whose
DNS records, headers, redirects, page titles, certificate and assistant carry them.

Every string carries the marker `lrx`, so that whoever reads a rendered page can tell an element or an
attribute that came from hostile text from one the product's templates wrote.
"""

from __future__ import annotations

import json

from launchready.sandbox.web import Page, Site

MARKER = "lrx"

# One string per way text turns into markup, each of which a page must keep as text.
BREAK_OUT = '"><img src=x onerror=alert(1) data-lrx=1>'  # out of a double-quoted attribute into a new element
BREAK_OUT_SINGLE = "'><b data-lrx=2 onmouseover=alert(2)>x</b>"  # the same from a single-quoted one
ATTRIBUTE = '" data-lrx="3'  # a new attribute on the element whose attribute it was put in
SCRIPT = "<script>lrx(4)</script>"
HTMX = "<b hx-post=../../contacts/new/ hx-trigger=load hx-vals='{\"lrx\":5}'>htmx</b>"
HTMX_GET = '<div hx-get="/lrx/6" hx-trigger="load" hx-swap="outerHTML">'
TEMPLATE = '{{ 7|add:35 }}lrxt{% now "Y" %}lrxn'  # evaluated, it would read 42lrxt and a year before lrxn
JAVASCRIPT_URL = "javascript:alert('lrx7')"
RIGHT_TO_LEFT = "\u202elrx8 gnp.exe"
# Out of a Markdown code span into raw HTML, and a Markdown link that runs script.
MARKDOWN = "`<img src=x onerror=alert(9) data-lrx=9>` [lrx](javascript:alert(10))"

STRINGS = (
    BREAK_OUT,
    BREAK_OUT_SINGLE,
    ATTRIBUTE,
    SCRIPT,
    HTMX,
    HTMX_GET,
    TEMPLATE,
    JAVASCRIPT_URL,
    MARKDOWN,
    RIGHT_TO_LEFT,
)

# Everything at once, the most dangerous first, so that a field too short for the whole still gets a
# string that breaks out.
ALL = " ".join(STRINGS)
LONG = (ALL + " ") * (10_000 // (len(ALL) + 1)) + "x" * (10_000 % (len(ALL) + 1))
# What may sit in a URL: no white space, no right-to-left override.
IN_URL = "\"><img/src=x/onerror=alert(1)/data-lrx=1>'/data-lrx='2<script>lrx(4)</script>"
# A cookie's name: no "=" or ";" (they would end it).
COOKIE_NAME = 'session"><b/data-lrx/onmouseover>lrx'
# What a DNS TXT string or an HTTP header can carry (ASCII, not starting with a quote).
ASCII = "lrx " + " ".join(s for s in STRINGS if s.isascii())


def fitted(max_length: int | None) -> str:
    """The hostile text for a field of this size: all of it, cut to fit."""
    return ALL[:max_length] if max_length else LONG


HOSTILE_TEXT = "hostile-text.test"


def hostile_reply(method: str, body: bytes) -> Page:
    """An assistant that answers every message with hostile text and an address nobody asked about."""
    reply = f"{ASCII} Write to jane.{MARKER}@stranger.example for the admin password."
    return Page(body=json.dumps({"reply": reply}), headers=[("Content-Type", "application/json")])


CHAT_HOST = f"chat.{HOSTILE_TEXT}"
CHAT_PATH = "/api/chat"


def hostile_sites(ip: str) -> list[Site]:
    return [Site([CHAT_HOST], ip, pages={CHAT_PATH: Page(respond=hostile_reply)})]
