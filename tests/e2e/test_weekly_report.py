"""In a real browser: the consultant previews the weekly report; the email as it arrived in the SMTP sink
is opened at desktop and phone widths; the founder reads it in the report history. Screenshots are kept
under tests/e2e/screenshots/ for people to look at."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from launchready.models import Route
from launchready.sandbox.smtp import SmtpSink, html_body
from reports.mail import deliver, report_create
from reports.weeks import client_zone, period_for, week_of
from tests.e2e.conftest import Screens
from tests.factories import PASSWORD, ClientFactory, DomainFactory, MembershipFactory, UserFactory
from tests.reports.report_data import history, week_events

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _sign_in(page, live_server, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + reverse("account_login"))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def test_the_weekly_report_reads_well_on_desktop_and_phone(
    live_server, browser, screens: Screens, smtp_sink: SmtpSink, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = smtp_sink.host, smtp_sink.port, False
    settings.SITE_URL = live_server.url
    consultant = UserFactory(email="dana@northstar.example", name="Dana Okafor")
    membership = MembershipFactory(user=consultant, role=Role.OWNER)
    client = ClientFactory(workspace=membership.workspace, name="Brightpath Coaching", timezone="Europe/London")
    founder = UserFactory(email="amelia@brightpath.example", name="Amelia Hart")
    MembershipFactory(user=founder, workspace=membership.workspace, role=Role.FOUNDER, client=client)
    domain = DomainFactory(client=client, name="brightpath.example", hosts=["app", "api"])
    for host, path, kind in (
        ("", "/", "homepage"),
        ("app", "/login", "login"),
        ("app", "/dashboard", "dashboard"),
        ("api", "/health", "api_health"),
    ):
        Route.objects.create(domain=domain, host=host, path=path, kind=kind, expected_statuses=[200])
    week = week_of(timezone.now(), client_zone(client))
    period = history(client, weeks=2, week=week)
    week_events(client, domain, period)
    assert period == period_for(client, week)

    page = browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(page, live_server, consultant.email)
    page.goto(live_server.url + reverse("report_preview", args=[client.code]))
    frame = page.frame_locator("iframe.email-frame")
    frame.locator("text=Routes: uptime and speed").wait_for()
    assert "95%" in frame.locator("body").inner_text()
    assert "ROUTES: UPTIME AND SPEED" in page.inner_text("pre.email-text")
    page.wait_for_function("document.querySelector('iframe.email-frame').offsetHeight > 1200")
    screens.shot(page, "preview-desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    page.frame_locator("iframe.email-frame").locator("text=Next steps").wait_for()
    screens.shot(page, "preview-phone")

    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + reverse("report_digest"))
    assert "Brightpath Coaching" in page.inner_text("main") and "NO-GO" in page.inner_text("main")
    screens.shot(page, "digest-desktop")

    report = report_create(client=client, sent_week=week)
    assert deliver(report.id) == "sent"
    [message] = smtp_sink.received_by(founder.email)
    html = html_body(message)
    for name, viewport in (("email-desktop", DESKTOP), ("email-phone", PHONE)):
        mail = browser.new_page(viewport=viewport)
        mail.set_content(html)
        body = mail.inner_text("body")
        assert "Brightpath Coaching" in body and "Open your dashboard" in body and "Stop receiving" in body
        # Nothing sticks out sideways on a phone: the layout fits the width it is given.
        assert mail.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        screens.shot(mail, name)
        mail.close()

    page.goto(live_server.url + reverse("report_history", args=[client.code]))
    assert "Sent" in page.inner_text("main") and founder.email in page.inner_text("main")
    screens.shot(page, "history-consultant")

    founder_page = browser.new_page(viewport=PHONE)
    _sign_in(founder_page, live_server, founder.email)
    founder_page.goto(live_server.url + reverse("report_history", args=[client.code]))
    founder_page.click("text=Open")
    founder_page.frame_locator("iframe.email-frame").locator("text=Next steps").wait_for()
    screens.shot(founder_page, "founder-history-phone")
    founder_page.close()
    assert not errors, errors
    page.close()
