"""The PDF of a published pack: its stored document laid out for print by WeasyPrint."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from handover.models import PackVersion
from launchready.bidi import neutralise


def _local_only(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    """The PDF never reaches the network: every outside request goes through launchready/net.py, not here."""
    raise ValueError(f"the handover PDF loads nothing from outside: {url[:80]}")


def pack_print_html(version: PackVersion) -> str:
    """The document WeasyPrint lays out: the stored pack in its print frame."""
    return neutralise(render_to_string("handover/print.html", {"version": version, "client": version.client}))


def pack_pdf(version: PackVersion) -> bytes:
    # Imported lazily for start-up cost: loading Pango costs time no other page should pay.
    from weasyprint import CSS, HTML

    html = pack_print_html(version)
    stylesheet = finders.find("css/app.css")
    document = HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=_local_only)
    return document.write_pdf(stylesheets=[CSS(filename=str(stylesheet))] if stylesheet else [])
