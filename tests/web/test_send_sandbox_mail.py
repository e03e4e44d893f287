"""`manage.py send_sandbox_mail`, as a consultant runs it while `make run` is up: the sandbox sender's variants and
DMARC reports reach the real receiver at the addresses a client's pages show, and come out with their verdict and
as sources; an address the receiver never issued is refused with the receiver's own 550."""

# ruff: noqa: F811  (the receiver fixture is imported from the receiver tests)
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils.timezone import now

from audits.inbound.addresses import address_text, dmarc_address_for, send_test_address_issue
from audits.inbound.verification import received_message_verify
from audits.models import DmarcReport, DmarcSource, ReceivedMessage
from launchready.config import MailReceiver
from launchready.sandbox.mail_sender import GOOD_IP, UNLISTED_IP
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import build_world
from launchready.sandbox.web import WebSandbox
from tests.audits.inbound.conftest import MAIL_DOMAIN, Running, receiver  # noqa: F401  # the receiver fixture
from tests.conftest import Tenant, login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def var_sandbox(tmp_path: Path, settings) -> Iterator[Sandbox]:  # type: ignore[no-untyped-def]
    """The sandbox as `make run` serves it: its sender's DKIM keys kept under VAR_DIR, where the command reads them."""
    settings.VAR_DIR = tmp_path
    settings.LAUNCHREADY_MAIL_RECEIVER = MailReceiver(domain=MAIL_DOMAIN, host="127.0.0.1", port=2525)
    world = build_world(mail_keys=tmp_path / "sandbox")
    with Sandbox(world.zone, web=WebSandbox(world.sites)) as sandbox:
        yield sandbox


def run(*args: str) -> str:
    out = StringIO()
    call_command("send_sandbox_mail", *args, stdout=out)
    return out.getvalue()


def test_each_variant_asked_for_arrives_and_gets_its_verdict(
    tenant: Tenant, receiver: Running, var_sandbox: Sandbox
) -> None:
    to = address_text(send_test_address_issue(client=tenant.client), MAIL_DOMAIN)
    out = run("--to", to, "--variant", "aligned", "--variant", "spf_fail", "--port", str(receiver.port))
    assert out.splitlines() == ["aligned: 250 2.0.0 Accepted", "spf_fail: 250 2.0.0 Accepted"]
    aligned, spf_fail = (received_message_verify(i, config=var_sandbox.net_config()) for i in receiver.stored)
    assert aligned is not None and spf_fail is not None
    assert (aligned.peer, spf_fail.peer) == (GOOD_IP, UNLISTED_IP)
    assert aligned.verdict["passed"] is True  # signed with the keys the sandbox's DNS publishes
    assert [f["check_id"] for f in aligned.verdict["findings"] if f["severity"] != "info"] == []
    assert {"email.send.spf_fail", "email.send.no_reverse_dns"} <= {f["check_id"] for f in spf_fail.verdict["findings"]}
    page = login(tenant.consultant).get(reverse("send_test", args=[tenant.client.code])).content.decode()
    assert "Confirm your email (spf_fail)" in page and "Confirm your email (aligned)" in page  # each by its subject


@pytest.mark.parametrize("form", ["gzip", "zip", "xml"])
def test_a_report_mailed_to_the_rua_address_shows_its_sources(
    form: str, tenant: Tenant, receiver: Running, var_sandbox: Sandbox
) -> None:
    rua = address_text(dmarc_address_for(tenant.client), MAIL_DOMAIN)
    out = run("--to", rua, "--report", form, "--port", str(receiver.port))
    yesterday = (now() - timedelta(days=1)).astimezone(UTC).date()
    assert (
        out == f"DMARC report for {tenant.domain.name} on {yesterday} ({form}, 2 sources, p=none): 250 2.0.0 Accepted\n"
    )
    (message_id,) = receiver.stored
    assert received_message_verify(message_id, config=var_sandbox.net_config()) is not None
    assert ReceivedMessage.objects.get(id=message_id).verdict["reports"] == 1
    assert DmarcReport.objects.get(client=tenant.client).domain == tenant.domain.name
    rows = {s.source_ip: (s.messages, s.dmarc_pass) for s in DmarcSource.objects.filter(client=tenant.client)}
    assert rows == {GOOD_IP: (25, 25), UNLISTED_IP: (3, 0)}
    page = login(tenant.consultant).get(reverse("dmarc_senders", args=[tenant.client.code])).content.decode()
    assert "28 messages from 2 sources" in page
    assert GOOD_IP in page and UNLISTED_IP in page


def test_a_second_report_is_a_report_of_its_own(tenant: Tenant, receiver: Running, var_sandbox: Sandbox) -> None:
    rua = address_text(dmarc_address_for(tenant.client), MAIL_DOMAIN)
    for form in ("gzip", "zip"):
        run("--to", rua, "--report", form, "--port", str(receiver.port))
    for message_id in receiver.stored:
        received_message_verify(message_id, config=var_sandbox.net_config())
    assert DmarcReport.objects.filter(client=tenant.client).count() == 2
    assert DmarcSource.objects.get(client=tenant.client, source_ip=GOOD_IP).messages == 50


def test_thirty_days_of_reports_at_quarantine_bring_the_record_for_reject(
    tenant: Tenant, receiver: Running, var_sandbox: Sandbox
) -> None:
    rua = address_text(dmarc_address_for(tenant.client), MAIL_DOMAIN)
    out = run("--to", rua, "--report", "zip", "--policy", "quarantine", "--days", "30", "--port", str(receiver.port))
    assert len(out.splitlines()) == 30 and all("p=quarantine): 250" in line for line in out.splitlines())
    for message_id in receiver.stored:
        received_message_verify(message_id, config=var_sandbox.net_config())
    assert DmarcReport.objects.filter(client=tenant.client, policy="quarantine").count() == 30
    page = login(tenant.consultant).get(reverse("dmarc_senders", args=[tenant.client.code])).content.decode()
    assert "30 clean days in a row at p=quarantine" in page and "Move from p=quarantine to p=reject" in page
    assert f'<pre class="mono">v=DMARC1; p=reject; rua=mailto:{rua}</pre>' in page


def test_an_address_the_receiver_never_issued_is_refused_with_its_550(
    tenant: Tenant, receiver: Running, var_sandbox: Sandbox
) -> None:
    unknown = re.escape("refused nobody@mail.launchready.test: 550 5.1.1 No such address here")
    with pytest.raises(CommandError, match=unknown):
        run("--to", f"nobody@{MAIL_DOMAIN}", "--port", str(receiver.port))
    with pytest.raises(CommandError, match=re.escape("550 5.7.1 Relaying denied")):
        run("--to", "someone@example.com", "--port", str(receiver.port))
    with pytest.raises(CommandError, match="is not a client's DMARC report mailbox"):
        run("--to", f"nobody@{MAIL_DOMAIN}", "--report", "gzip", "--port", str(receiver.port))
    assert receiver.stored == []


def test_a_receiver_that_is_not_up_is_named(tenant: Tenant, var_sandbox: Sandbox) -> None:
    to = address_text(send_test_address_issue(client=tenant.client), MAIL_DOMAIN)
    with pytest.raises(CommandError, match=r"Cannot reach the mail receiver on 127.0.0.1:1 .*is `make run` up\?"):
        run("--to", to, "--port", "1")
