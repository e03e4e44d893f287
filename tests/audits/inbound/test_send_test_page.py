"""The real-send test page: staff issue a one-time address, the page waits live (htmx polling) and shows the
verdict of what arrived through the real receiver; founders watch, read-only."""

from __future__ import annotations

from django.urls import reverse

from audits.inbound.send_tests import SendTestState, send_test_for
from audits.inbound.verification import received_message_verify
from audits.models import MailAddress
from launchready.sandbox.mail_sender import send, sender_keys
from launchready.sandbox.runner import Sandbox
from tests.audits.inbound.conftest import MAIL_DOMAIN, Running
from tests.conftest import Tenant, login


def test_the_page_offers_a_test_address_and_waits_for_mail(tenant: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    http = login(tenant.consultant)
    page = reverse("send_test", args=[tenant.client.code])
    assert "No test yet" in http.get(page).content.decode()
    assert http.post(page).status_code == 302
    address = MailAddress.objects.get(client=tenant.client, kind=MailAddress.Kind.SEND_TEST)
    html = http.get(page).content.decode()
    assert f"test-{address.token}@{settings.LAUNCHREADY_MAIL_RECEIVER.domain}" in html
    assert "Waiting" in html and 'hx-trigger="every 2s"' in html


def test_a_founder_watches_but_cannot_issue(tenant: Tenant) -> None:
    http = login(tenant.founder)
    page = reverse("send_test", args=[tenant.client.code])
    assert http.get(page).status_code == 200
    assert http.post(page).status_code == 403
    assert not MailAddress.objects.exists()


def test_the_status_stops_polling_once_the_verdict_is_in(
    tenant: Tenant, receiver: Running, world_sandbox: Sandbox, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    http = login(tenant.consultant)
    http.post(reverse("send_test", args=[tenant.client.code]))
    address = MailAddress.objects.get(client=tenant.client)
    send("spf_fail", f"{address.local_part}@{MAIL_DOMAIN}", host="127.0.0.1", port=receiver.port, keys=sender_keys())
    status = reverse("send_test_status", args=[tenant.client.code])
    checking = http.get(status).content.decode()
    assert "Checking" in checking and "every 2s" in checking
    received_message_verify(receiver.stored[0], config=world_sandbox.net_config())
    assert send_test_for(tenant.client).state == SendTestState.DONE
    with django_assert_max_num_queries(12):
        done = http.get(status).content.decode()
    assert "every 2s" not in done
    assert "Problems" in done
    assert "The server that sent this email (127.0.77.99) is not in sends-mail.test&#x27;s SPF record" in done
    assert "ip4:127.0.77.99 -all" in done  # the exact record to publish
    assert "This email passed DMARC for sends-mail.test" in done
