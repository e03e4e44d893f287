"""The PDF of a published pack: its stored document laid out for print by WeasyPrint."""

from __future__ import annotations

import logging

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from handover.models import PackVersion

log = logging.getLogger(__name__)


def pack_pdf(version: PackVersion) -> bytes:
    from weasyprint import CSS, HTML  # imported here: loading Pango costs time no other page should pay

    html = render_to_string("handover/print.html", {"version": version, "client": version.client})
    stylesheet = finders.find("css/app.css")
    document = HTML(string=html, base_url=str(finders.find("favicon.svg") or "."))
    return document.write_pdf(stylesheets=[CSS(filename=str(stylesheet))] if stylesheet else [])
