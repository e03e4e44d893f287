"""A real send's verdict joins the product: its findings are on the client's risk list (and its blocker on the
client's status row), the checklist's email item is done only after a passing real send and says why not
otherwise, and the handover pack (page, Markdown and PDF) says when it was tested with a real send and how it came
out. Every message here comes from the sandbox sender through the real receiver."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest
from django.urls import reverse

from audits.findings import LaunchVerdict
from audits.inbound.addresses import address_text, send_test_address_issue
from audits.models import AuditFinding, AuditRun, SendFinding
from audits.risk import export, risk_list
from audits.selectors import latest_real_send
from handover.checklist import State, sprint_checklist
from handover.pack import build_pack
from handover.publish import pack_publish, pack_render
from launchready.models import ClientStatus
from launchready.sandbox.mail_sender import SENDER, send, sender_keys
from launchready.sandbox.runner import Sandbox
from tests.audits.inbound.conftest import MAIL_DOMAIN, Running
from tests.audits.inbound.test_receiver import verdict_of
from tests.conftest import Tenant, login, make_tenant


@pytest.fixture
def tenant_mail(transactional_db: None) -> Iterator[tuple[Tenant, str]]:
    tenant = make_tenant()
    yield tenant, address_text(send_test_address_issue(client=tenant.client), MAIL_DOMAIN)


def real_send(receiver: Running, to: str, sandbox: Sandbox, variant: str) -> None:
    """One variant from the sandbox sender through the receiver, judged as the worker judges it."""
    stored = len(receiver.stored)
    assert send(variant, to, host="127.0.0.1", port=receiver.port, keys=sender_keys()).startswith("250 ")
    assert len(receiver.stored) == stored + 1
    verdict_of(receiver.stored[-1], sandbox)


def clean_audit(tenant: Tenant) -> AuditRun:
    """A finished audit whose email records look right: one informational email finding."""
    run = AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.DONE, go=True, verdict="go")
    AuditFinding.objects.create(
        run=run,
        check_id="email.mta_sts.missing",
        subject=tenant.domain.name,
        area="email",
        severity="info",
        item="email_authentication",
        title="No MTA-STS policy",
        explanation="",
        fix="",
    )
    return run


def email_item(tenant: Tenant):  # type: ignore[no-untyped-def]
    return next(i for i in sprint_checklist(tenant.sprint).items if i.item == "email_authentication")


def test_a_failing_real_send_is_on_the_risk_list_and_makes_the_client_no_go(
    receiver: Running, tenant_mail: tuple[Tenant, str], world_sandbox: Sandbox
) -> None:
    tenant, to = tenant_mail
    clean_audit(tenant)
    assert risk_list(tenant.client).verdict == LaunchVerdict.GO
    real_send(receiver, to, world_sandbox, "misaligned_from")
    risks = risk_list(tenant.client)
    assert risks.send is not None and risks.send.id == receiver.stored[-1]
    finding = next(f for f in risks.all_open if f.check_id == "email.send.dmarc_fail")
    assert isinstance(finding, SendFinding) and finding.severity == "blocker"
    assert finding.source.startswith("Real send of ")
    assert "fails DMARC" in finding.title and finding.fix
    assert risks.verdict == LaunchVerdict.NO_GO and risks.blockers == 1
    status = ClientStatus.objects.get(client=tenant.client)
    assert (status.verdict, status.blockers) == ("no_go", 1)  # the dashboard agrees with the risk list
    exported = export(tenant.client)
    assert exported["real_send"]["passed"] is False
    assert "email.send.dmarc_fail" in {f["check_id"] for f in exported["findings"]}
    page = login(tenant.consultant).get(reverse("client_risks", args=[tenant.client.code])).content.decode()
    assert "fails DMARC" in page and "Real send of " in page


def test_a_passing_send_after_a_failing_one_shows_the_failure_fixed(
    receiver: Running, tenant_mail: tuple[Tenant, str], world_sandbox: Sandbox
) -> None:
    tenant, to = tenant_mail
    real_send(receiver, to, world_sandbox, "body_hash")
    first = {f.check_id: f.change for f in risk_list(tenant.client).all_open}
    assert first["email.send.dkim_body_hash"] == "new"
    real_send(receiver, to, world_sandbox, "aligned")
    risks = risk_list(tenant.client)
    assert risks.send is not None and risks.send.id == receiver.stored[-1]  # only the latest send counts
    assert "email.send.dkim_body_hash" not in {f.check_id for f in risks.all_open}
    assert [f.check_id for f in risks.fixed] == ["email.send.dkim_body_hash"]
    assert {f.check_id for f in risks.all_open} == {"email.send.authenticated"}
    assert risks.verdict == LaunchVerdict.GO
    real_send(receiver, to, world_sandbox, "body_hash")
    again = {f.check_id: f.change for f in risk_list(tenant.client).all_open}
    assert again["email.send.dkim_body_hash"] == "regressed"


def test_judging_a_message_twice_records_its_findings_once(
    receiver: Running, tenant_mail: tuple[Tenant, str], world_sandbox: Sandbox
) -> None:
    _, to = tenant_mail
    real_send(receiver, to, world_sandbox, "no_tls")
    verdict_of(receiver.stored[-1], world_sandbox)
    rows = SendFinding.objects.filter(message_id=receiver.stored[-1])
    assert sorted(rows.values_list("check_id", flat=True)) == ["email.send.authenticated", "email.send.no_tls"]


def test_another_clients_real_send_is_not_on_this_risk_list(
    receiver: Running, tenant_mail: tuple[Tenant, str], world_sandbox: Sandbox
) -> None:
    tenant, _ = tenant_mail
    other = make_tenant()
    real_send(
        receiver, address_text(send_test_address_issue(client=other.client), MAIL_DOMAIN), world_sandbox, "spf_fail"
    )
    assert risk_list(tenant.client).send is None and latest_real_send(tenant.client.id) is None
    assert "email.send.spf_fail" in {f.check_id for f in risk_list(other.client).all_open}


def test_the_email_item_waits_for_a_passing_real_send(
    receiver: Running, tenant_mail: tuple[Tenant, str], world_sandbox: Sandbox
) -> None:
    tenant, to = tenant_mail
    clean_audit(tenant)
    item = email_item(tenant)
    assert item.state == State.TODO
    assert item.reason.startswith("The records look right in the latest audit, but no real send has passed yet")

    real_send(receiver, to, world_sandbox, "spf_fail")  # DMARC holds through DKIM, but SPF fails: high
    item = email_item(tenant)
    assert (item.state, item.source) == (State.ATTENTION, "real send")
    assert item.reason.startswith("The records look right, but the real send on ")
    assert "failed: The server that sent this email (127.0.77.99) is not in" in item.reason
    assert item.findings[0].url == reverse("send_test", args=[tenant.client.code])

    real_send(receiver, to, world_sandbox, "misaligned_from")  # a blocker blocks the item
    item = email_item(tenant)
    assert item.state == State.BLOCKED and "fails DMARC" in item.reason

    real_send(receiver, to, world_sandbox, "aligned")
    item = email_item(tenant)
    assert (item.state, item.source) == (State.DONE, "audit and real send")
    assert item.reason.endswith(f"passed DMARC for {SENDER}.")


def test_a_tick_by_hand_does_not_stand_in_for_a_real_send(tenant_mail: tuple[Tenant, str]) -> None:
    from handover.models import ChecklistTick

    tenant, _ = tenant_mail
    ChecklistTick.objects.create(sprint=tenant.sprint, item="email_authentication", done=True)
    item = email_item(tenant)
    assert item.state == State.TODO and item.reason.startswith("Ticked by hand, but no real send has passed yet")


def test_the_pack_says_when_it_was_tested_with_a_real_send(
    receiver: Running, tenant_mail: tuple[Tenant, str], world_sandbox: Sandbox
) -> None:
    tenant, to = tenant_mail
    clean_audit(tenant)
    assert build_pack(tenant.client)["real_send"]["text"].startswith("Not tested with a real send yet")
    real_send(receiver, to, world_sandbox, "body_hash")
    summary = build_pack(tenant.client)["real_send"]
    assert summary["passed"] is False
    assert summary["text"].startswith("Tested with a real send on ")
    assert summary["text"].endswith(f": failed: The DKIM signature of {SENDER} does not match the email's body.")
    real_send(receiver, to, world_sandbox, "aligned")
    version = pack_publish(client=tenant.client, user=tenant.consultant)
    text = version.data["real_send"]["text"]
    assert text.startswith("Tested with a real send on ") and text.endswith(f": passed DMARC for {SENDER}.")
    html, markdown = pack_render(version.data, number=version.number)
    assert text in html and text in markdown
    assert text in version.html and text in version.markdown
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (Debian's poppler-utils) is not installed")
    response = login(tenant.founder).get(reverse("pack_version_pdf", args=[version.code]))
    pdf_text = subprocess.run(
        ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    assert "Tested with a real send on" in " ".join(pdf_text.split())
