"""In a real browser: a consultant downloads the template, uploads a file with mistakes, reads an error per row
in the preview (screenshots at desktop and phone width), fixes the file, imports it and finds the clients on
the dashboard."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from accounts.models import Role
from audits.models import AuditRun
from launchready.models import Client, Route
from tests.e2e.conftest import SCREENSHOTS, Screens
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEADER = "kind,client,product_kind,stage,timezone,contact_name,email,primary,domain,hosts,host,path,route_kind\n"
ROWS = [
    "client,Brightpath Coaching,coaching_dashboard,demo_to_launch,Europe/London,,,,,,,,",
    "contact,Brightpath Coaching,,,,Amelia Hart,amelia@brightpath-coaching.example,yes,,,,,",
    'domain,Brightpath Coaching,,,,,,,brightpath-coaching.example,"app, api",,,',
    "route,Brightpath Coaching,,,,,,,brightpath-coaching.example,,app,/login,login",
    "client,Northwind Health,b2b_dashboard,demo_to_launch,{tz},,,,,,,,",
    "contact,Northwind Health,,,,Lena Vogel,{email},no,,,,,",
    "domain,Northwind Health,,,,,,,{domain},,,,",
    "route,Northwind Health,,,,,,,northwind-health.example,,,/,homepage",
]
MISTAKES = {"tz": "Berlin", "email": "lena at northwind", "domain": "https://10.0.0.1/"}
FIXED = {"tz": "Europe/Berlin", "email": "lena@northwind.example", "domain": "northwind-health.example"}


def _file(tmp_path: Path, name: str, values: dict[str, str]) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(row.format(**values) for row in ROWS) + "\n", encoding="utf-8")
    return path


def test_a_consultant_fixes_the_rows_the_preview_flags_and_imports(
    live_server, browser, screens: Screens, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    workspace = WorkspaceFactory(name="Northstar Launch Studio")
    consultant = UserFactory(email="dana@northstar.example", name="Dana Okafor")
    MembershipFactory(user=consultant, workspace=workspace, role=Role.OWNER)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + reverse("account_login"))
    page.fill("input[name=login]", consultant.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(base + reverse("dashboard"))

    page.click("text=Import or export CSV")
    page.wait_for_url(base + reverse("onboarding_import"))
    screens.shot(page, "upload")
    with page.expect_download() as download:
        page.click("text=Download the template")
    assert download.value.suggested_filename.endswith(".csv")

    page.set_input_files("input[name=file]", str(_file(tmp_path, "clients.csv", MISTAKES)))
    page.click("button:has-text('Check the file')")
    page.wait_for_selector("#import-errors")
    assert "4 rows of the file need fixing" in page.inner_text("#import-errors")
    flagged = page.locator("tr.has-error").all_inner_texts()
    assert len(flagged) == 4, flagged  # the bad client row, and the three rows that depend on it
    text = "\n".join(flagged)
    assert "timezone" in text and "email" in text and "IP address" in text and "(row 6) has an error" in text
    assert page.locator("button:has-text('Import')").count() == 0, "nothing to import while a row has an error"
    page.screenshot(path=str(SCREENSHOTS / "bulk-import-preview-errors-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "bulk-import-preview-errors-390.png"), full_page=True)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the preview scrolls sideways on a phone: {wide} px"
    page.set_viewport_size({"width": 1280, "height": 900})
    assert not Client.objects.filter(workspace=workspace).exists(), "the preview saved nothing"

    page.set_input_files("input[name=file]", str(_file(tmp_path, "clients-fixed.csv", FIXED)))
    page.click("button:has-text('Check the file')")
    page.wait_for_selector("text=Every row is ready")
    assert "starts the first audit of each new domain (2)" in page.inner_text("main")
    screens.shot(page, "preview-ready")
    page.click("button:has-text('Import 8 changes')")
    page.wait_for_url(base + reverse("dashboard"))
    message = page.inner_text(".messages")
    assert "2 clients, 2 contacts, 2 domains, 2 routes added" in message and "2 new domains" in message
    assert page.locator("text=Brightpath Coaching").count() == 1 and page.locator("text=Northwind Health").count() == 1
    screens.shot(page, "dashboard")
    clients = Client.objects.filter(workspace=workspace)
    assert clients.count() == 2 and Route.objects.filter(domain__client__in=clients).count() == 2
    assert AuditRun.objects.filter(domain__client__in=clients).count() == 2

    # The same file again: the preview says nothing would change, and offers no import.
    page.goto(base + reverse("onboarding_import"))
    page.set_input_files("input[name=file]", str(_file(tmp_path, "clients-fixed.csv", FIXED)))
    page.click("button:has-text('Check the file')")
    page.wait_for_selector("text=would change nothing")
    assert page.locator("button:has-text('Import')").count() == 0
    context.close()
    assert not errors, errors
