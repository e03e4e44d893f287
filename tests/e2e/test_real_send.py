"""In a real browser: the consultant asks for a test address on a client's real-send page, the page waits live,
the sandbox sender's email arrives through the real receiver and is judged, and the page shows the verdict in
plain English without a reload; at desktop and phone width."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.urls import reverse
from django.utils.timezone import now

from accounts.models import Role
from audits.inbound.addresses import address_text, dmarc_address_for
from audits.inbound.verification import received_message_verify
from audits.models import MailAddress
from launchready.sandbox.dmarc_reports import REPORT_SOURCES, Source, aggregate_xml, report_email, zipped
from launchready.sandbox.mail_sender import deliver, send, sender_keys
from launchready.sandbox.runner import Sandbox
from tests.audits.inbound.conftest import MAIL_DOMAIN, Running, receiver  # noqa: F401  # the receiver fixture
from tests.e2e.conftest import Screens
from tests.factories import PASSWORD, ClientFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _verify(message_id: int, sandbox: Sandbox) -> None:
    try:
        received_message_verify(message_id, config=sandbox.net_config())
    finally:
        connections.close_all()


def test_the_page_waits_for_the_email_and_shows_its_verdict(
    receiver: Running,  # noqa: F811
    world_sandbox: Sandbox,
    live_server,
    browser,
    screens: Screens,
    settings,
) -> None:  # type: ignore[no-untyped-def]
    consultant = UserFactory(email="dana@northstar.example")
    membership = MembershipFactory(user=consultant, role=Role.OWNER)
    client = ClientFactory(workspace=membership.workspace, name="Brightpath")
    desktop = browser.new_page(viewport={"width": 1280, "height": 900})
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    errors: list[str] = []
    for page in (desktop, phone):
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(live_server.url + reverse("account_login"))
        page.fill("input[name=login]", consultant.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_load_state()
    url = live_server.url + reverse("send_test", args=[client.code])
    desktop.goto(url)
    desktop.click("main button:has-text('Get a test address')")
    desktop.wait_for_load_state()
    address = MailAddress.objects.get(client=client, kind=MailAddress.Kind.SEND_TEST)
    shown = f"test-{address.token}@{settings.LAUNCHREADY_MAIL_RECEIVER.domain}"
    phone.goto(url)
    for page, width in ((desktop, "desktop"), (phone, "phone")):
        page.wait_for_selector("text=Waiting")
        assert shown in page.inner_text("main")
        screens.shot(page, f"waiting-{width}")

    reply = send(
        "spf_fail", f"{address.local_part}@{MAIL_DOMAIN}", host="127.0.0.1", port=receiver.port, keys=sender_keys()
    )
    assert reply.startswith("250")
    # As the worker does, in a thread of its own: Playwright's loop runs in this one.
    judged = threading.Thread(target=_verify, args=(receiver.stored[0], world_sandbox))
    judged.start()
    judged.join(60)
    for page, width in ((desktop, "desktop"), (phone, "phone")):
        page.wait_for_selector("text=Problems", timeout=15_000)  # the page's own polling, no reload
        for details in page.locator("main details").all():
            details.evaluate("d => d.open = true")
        text = page.inner_text("main")
        assert "is not in sends-mail.test's SPF record" in text
        assert "ip4:127.0.77.99 -all" in text  # the exact record to publish
        assert "Confirm your email (spf_fail)" in text  # the email named by its subject
        screens.shot(page, f"result-{width}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the {width} page scrolls sideways by {overflow}px"
    assert errors == []


def test_a_report_mailed_to_the_receiver_shows_as_sources_at_desktop_and_phone_width(
    receiver: Running,  # noqa: F811
    world_sandbox: Sandbox,
    live_server,
    browser,
    screens: Screens,
) -> None:  # type: ignore[no-untyped-def]
    consultant = UserFactory(email="dana@northstar.example")
    membership = MembershipFactory(user=consultant, role=Role.OWNER)
    client = ClientFactory(workspace=membership.workspace, name="Brightpath")
    domain = client.domains.create(name="brightpath.test").name
    rua = address_text(dmarc_address_for(client), MAIL_DOMAIN)
    ip = {key: source.ip for key, source in REPORT_SOURCES.items()}
    sources = [Source(ip["google"], 120), Source(ip["sendgrid"], 7, dkim="fail", spf="fail")]
    xml = aggregate_xml(domain, sources, org="google.com", report_id="e2e-1", begin=int(now().timestamp()) - 86_400)
    raw = report_email(rua, domain, zipped(xml), name="google.com!brightpath.test.zip", content_type="application/zip")
    assert deliver(raw, rua, host="127.0.0.1", port=receiver.port).startswith("250")
    judged = threading.Thread(target=_verify, args=(receiver.stored[0], world_sandbox))
    judged.start()
    judged.join(60)
    for width, height in ((1280, 900), (390, 844)):
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(live_server.url + reverse("account_login"))
        page.fill("input[name=login]", consultant.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        name = "desktop" if width > 600 else "phone"
        page.goto(live_server.url + reverse("client_detail", args=[client.code]))
        card = page.inner_text("#senders")
        assert "127 messages from 2 sources" in card and ip["sendgrid"] in card
        page.goto(live_server.url + reverse("dmarc_senders", args=[client.code]))
        text = page.inner_text("main")
        assert "in 1 report from 1 reporter" in text and ip["google"] in text and ip["sendgrid"] in text
        assert f"rua=mailto:{rua}" in text
        screens.shot(page, f"senders-{name}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the {name} page scrolls sideways by {overflow}px"
