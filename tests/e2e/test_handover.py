"""In a real browser: the consultant works the sprint checklist, previews and publishes the handover pack;
the founder reads it on a desktop and on a phone, fills in the access inventory, and the PDF is rendered
to PNG pages for people to look at."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audits.lifecycle import audit_run_execute as execute
from audits.models import AuditRun
from handover.models import AccessEntry, PackVersion
from launchready.models import Contact, Domain, Route
from launchready.sandbox.runner import Sandbox
from monitoring.models import AlertChannel, Monitor, Probe
from monitoring.rollup import day_start, rollup_day, rollup_hour
from monitoring.scheduler import sync_monitors, tick
from tests.e2e.conftest import SCREENSHOTS, Screens
from tests.factories import PASSWORD, ClientFactory, MembershipFactory, SprintFactory, UserFactory, WorkspaceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + reverse("account_login"))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def _history(monitor: Monitor, latency: float) -> None:
    today = day_start(timezone.now())
    for days_ago in range(1, 8):
        day = today - timedelta(days=days_ago)
        for hour in (9, 15):
            start = day + timedelta(hours=hour)
            Probe.objects.bulk_create(
                Probe(monitor=monitor, at=start + timedelta(minutes=i), ok=i != 7 or days_ago != 3, latency_ms=latency)
                for i in range(60)
            )
            rollup_hour(start)
        rollup_day(day)


def _brightpath(sandbox_env: Sandbox) -> tuple[object, object, object]:
    workspace = WorkspaceFactory(name="Northstar Launch Studio")
    consultant = UserFactory(email="dana@northstar.example", name="Dana Okafor")
    MembershipFactory(user=consultant, workspace=workspace, role=Role.OWNER)
    client = ClientFactory(workspace=workspace, name="Brightpath Coaching", timezone="Europe/London")
    founder = UserFactory(email="amelia@brightpath.example", name="Amelia Hart")
    MembershipFactory(user=founder, workspace=workspace, role=Role.FOUNDER, client=client)
    domain = Domain.objects.create(
        client=client,
        name="brightpath.test",
        hosts=["app", "api"],
        mail_providers=["google", "postmark"],
        dkim_selectors=["google", "pm"],
        hosting_provider=Domain.HostingProvider.VERCEL,
    )
    for host, path, kind, keyword in [
        ("", "/", "homepage", "Brightpath"),
        ("app", "/login", "login", "Sign in"),
        ("api", "/health", "api_health", "ok"),
    ]:
        Route.objects.create(domain=domain, host=host, path=path, kind=kind, expected_statuses=[200], keyword=keyword)
    sprint = SprintFactory(client=client, started_at=timezone.now() - timedelta(hours=30))
    Contact.objects.create(
        client=client, name="Amelia Hart", email="amelia@brightpath.example", role="Founder and CEO", is_primary=True
    )
    AlertChannel.objects.create(client=client, kind="email", name="Founders and consultant")
    AccessEntry.objects.create(
        client=client, kind="hosting", provider="Vercel", owner="Amelia Hart", login_location="Vercel team, Google SSO"
    )
    execute(AuditRun.objects.create(domain=domain))
    sync_monitors()
    assert tick() == 3
    rollup_hour(timezone.now())
    for monitor, latency in zip(Monitor.objects.order_by("url"), (180.0, 90.0, 320.0), strict=True):
        _history(monitor, latency)
    return consultant, founder, sprint


def _in_thread(sandbox_env: Sandbox) -> tuple[object, object, object]:
    try:
        return _brightpath(sandbox_env)
    finally:
        connections.close_all()


def test_the_consultant_publishes_the_pack_and_the_founder_reads_it(
    sandbox_env: Sandbox, live_server, browser, screens: Screens
) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    for old in SCREENSHOTS.glob(f"{screens.prefix}-*.png"):
        old.unlink()
    # The audit and the probes run their own event loops: not in this thread, where Playwright's loop runs.
    with ThreadPoolExecutor(1) as pool:
        consultant, founder, sprint = pool.submit(_in_thread, sandbox_env).result()
    client = sprint.client  # type: ignore[attr-defined]
    errors: list[str] = []

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(page, base, consultant.email)  # type: ignore[attr-defined]
    page.goto(base + reverse("sprint_detail", args=[sprint.code]))  # type: ignore[attr-defined]
    checklist = page.locator("#checklist")
    assert "Launch Ready checklist" in checklist.inner_text()
    item = page.locator("#item-environment_variables")
    item.locator("summary").click()
    item.locator("input[name=done]").check()
    item.locator("textarea[name=notes]").fill("Every key is in Vercel; .env.example matches the code.")
    item.locator("button[type=submit]").click()
    page.wait_for_selector("#item-environment_variables.item-done")
    assert "Ticked by Dana Okafor" in page.locator("#item-environment_variables").inner_text()
    screens.shot(page, "consultant-sprint-checklist")

    page.goto(base + reverse("client_pack", args=[client.code]))
    assert "Preview: not yet seen by the founder" in page.inner_text("main")
    screens.shot(page, "consultant-pack-preview")
    page.fill("input[name=note]", "End of the sprint")
    page.click("button:has-text('Publish version 1')")
    page.wait_for_selector("text=Handover pack v1 published")
    version = PackVersion.objects.get(client=client)
    assert "Rolling back" in page.inner_text("main")
    screens.shot(page, "consultant-pack-published")
    page.set_viewport_size(PHONE)
    page.goto(base + reverse("client_pack", args=[client.code]))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1, "no sideways scroll"
    screens.shot(page, "consultant-pack-preview-phone")
    pdf = page.request.get(base + reverse("pack_version_pdf", args=[version.code]))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    pdf_bytes = pdf.body()
    context.close()

    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport, is_mobile=name == "phone")
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        _sign_in(page, base, founder.email)  # type: ignore[attr-defined]
        page.goto(base + reverse("client_detail", args=[client.code]))
        glance = page.locator("#glance").inner_text()
        status = version.data["status"]  # seven days of two hours of probes: watched 14 hours, not a month
        assert status["uptime_figure"] in glance and "uptime over 14 hours" in glance
        assert "last 30 days" not in glance
        screens.shot(page, f"founder-home-{name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1, "no sideways scroll"
        page.click("text=Read version 1")
        page.wait_for_selector(".doc")
        text = page.inner_text(".doc")
        assert "vercel rollback" in text and "Amelia Hart" in text and "Where secrets live" in text
        screens.shot(page, f"founder-pack-{name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1, "no sideways scroll"
        context.close()

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _sign_in(page, base, founder.email)  # type: ignore[attr-defined]
    page.goto(base + reverse("access_inventory", args=[client.code]))
    page.fill("input[name=registrar-provider]", "Namecheap")
    page.fill("input[name=registrar-owner]", "Amelia Hart")
    page.fill("input[name=registrar-login_location]", "hunter2-Xk9qPz4LmW8rT2vB7nQ")
    page.click("button:has-text('Save access inventory')")
    assert "This looks like a password or key" in page.inner_text("main")
    screens.shot(page, "founder-access-refused")
    page.fill("input[name=registrar-login_location]", "1Password, Brightpath Ops vault")
    page.click("button:has-text('Save access inventory')")
    page.wait_for_selector("text=Access inventory saved")
    assert AccessEntry.objects.get(client=client, kind="registrar").login_location == "1Password, Brightpath Ops vault"
    screens.shot(page, "founder-access-saved")
    context.close()
    assert not errors, errors

    _pdf_pages(pdf_bytes)


def _pdf_pages(pdf: bytes) -> None:
    """The PDF as PNG pages beside the screenshots (pdftoppm, Debian's poppler-utils)."""
    if not shutil.which("pdftoppm"):
        subprocess.run(["bash", "scripts/browser.sh"], cwd=Path(__file__).resolve().parents[2], check=False)
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm is missing and could not be installed: apt-get install poppler-utils")
    for old in SCREENSHOTS.glob("handover-pdf-*.png"):
        old.unlink()
    path = SCREENSHOTS / "handover.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(path), str(SCREENSHOTS / "handover-pdf")], check=True)
    pages = sorted(SCREENSHOTS.glob("handover-pdf-*.png"))
    assert len(pages) >= 8, "cover, contents and one page per section"
