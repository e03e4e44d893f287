"""The real-send test page: staff issue a one-time address, the page waits live (htmx polling) and shows the
verdict of what arrived through the real receiver; founders watch, read-only."""

from __future__ import annotations

from django.urls import reverse

from audits.inbound.send_tests import SendTestState, send_test_for
from audits.inbound.summary import check_lines
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


def test_the_page_says_how_arc_and_the_blocklists_came_out(
    tenant: Tenant, receiver: Running, world_sandbox: Sandbox
) -> None:
    http = login(tenant.consultant)
    http.post(reverse("send_test", args=[tenant.client.code]))
    address = MailAddress.objects.get(client=tenant.client)
    to = f"{address.local_part}@{MAIL_DOMAIN}"
    send("arc_broken", to, host="127.0.0.1", port=receiver.port, keys=sender_keys())
    received_message_verify(receiver.stored[0], config=world_sandbox.net_config())
    page = http.get(reverse("send_test_status", args=[tenant.client.code])).content.decode()
    assert 'ARC <span class="badge badge-warn">Broken</span>' in page
    assert "1 set, the latest sealed by forwards-mail.test, and the chain does not verify" in page
    assert "127.0.77.10 is on none of dnsbl.blocklists.test." in page
    assert "1 linked domain checked against uribl.blocklists.test: none listed." in page
    assert "A forwarder&#x27;s seal on this email is broken (ARC, forwards-mail.test)" in page
    send("listed_link", to, host="127.0.0.1", port=receiver.port, keys=sender_keys())
    received_message_verify(receiver.stored[1], config=world_sandbox.net_config())
    page = http.get(reverse("send_test_status", args=[tenant.client.code])).content.decode()
    assert 'Linked domains <span class="badge badge-stop">Listed</span>' in page
    assert "2 linked domains checked against uribl.blocklists.test: spammy-links.test listed." in page
    assert "This email links to spammy-links.test, which is on a blocklist" in page
    assert 'ARC <span class="badge badge-muted">None</span>' in page  # the latest email came straight
    assert "No forwarder sealed this email" in page


def test_a_verdict_from_before_arc_and_blocklists_has_no_line_for_them() -> None:
    assert check_lines({"spf": None, "dkim": []}) == []
    assert check_lines(None) == []
    lines = check_lines({"arc": {"result": "none"}, "blocklists": {"dnsbl_zones": [], "uribl_zones": []}})
    assert [(line.label, line.outcome) for line in lines] == [
        ("ARC", "None"),
        ("Sending address", "Not checked"),
        ("Linked domains", "Not checked"),
    ]
