"""Findings as the pages show them (jinja/audits/_findings.html): the risk list, the client's page, the sprint
page and an audit run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString

from audits.evidence import evidence_html
from launchready.jinja import jinja_partial


def findings_html(request: HttpRequest, findings: Sequence[Any]) -> SafeString:
    """The findings' markup, each string in them escaped (the evidence too: evidence_html escapes every string
    it is given), to be placed in a Django page as it is."""
    return jinja_partial(request, "audits/_findings.html", {"findings": findings, "evidence": evidence_html})
