"""The demo's Brightpath has three weeks of DMARC reports: its client page lists who sends as it, and once the
sandbox names the sources, each provider is known by its forward-confirmed reverse DNS."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from accounts.models import User
from audits.inbound.senders import senders_for
from audits.inbound.source_hosts import sources_look_up
from audits.models import DmarcReport
from launchready.models import Client
from launchready.sandbox.runner import Sandbox
from tests.conftest import login
from web.demo import FOUNDER_EMAIL, seed_demo
from web.demo_dmarc import DAYS, DKIM_BROKE_DAYS_AGO, REPORTERS

pytestmark = pytest.mark.django_db


def test_the_demo_shows_who_sends_as_brightpath(tmp_path: Path, world_sandbox: Sandbox) -> None:
    seed_demo(tmp_path)
    brightpath = Client.objects.get(name="Brightpath Coaching")
    assert DmarcReport.objects.filter(client=brightpath).count() == DAYS * len(REPORTERS)
    assert sources_look_up(brightpath.id, config=world_sandbox.net_config()) == 5
    shown = senders_for(brightpath)
    assert [s.name for s in shown.sources][:3] == ["Postmark", "Google", "SendGrid"]
    assert shown.clean_days == DKIM_BROKE_DAYS_AGO - 1 and shown.policy == "none"
    assert {s.name for s in shown.failing} >= {"SendGrid", "mail-x.google.com", "No reverse DNS name"}
    founder = login(User.objects.get(email=FOUNDER_EMAIL))
    html = founder.get(reverse("client_detail", args=[brightpath.code])).content.decode()
    assert "Who sends as you" in html and "Postmark" in html and "4 sources failing" in html
    page = founder.get(reverse("dmarc_senders", args=[brightpath.code])).content.decode()
    assert f"{DKIM_BROKE_DAYS_AGO - 1} clean days in a row so far" in page
    assert "brightpath.test._report._dmarc.mail.launchready.test" in page
    seed_demo(tmp_path)  # a second start keeps no report twice
    assert DmarcReport.objects.filter(client=brightpath).count() == DAYS * len(REPORTERS)


def test_the_sandbox_publishes_brightpaths_dmarc_record_naming_the_mailbox_its_reports_come_to(
    tmp_path: Path, world_sandbox: Sandbox
) -> None:
    import asyncio

    from audits.engine import run_audit
    from audits.inbound.addresses import address_text, dmarc_address_for
    from audits.target import AuditTarget
    from launchready.models import Domain
    from launchready.sandbox.scenarios import build_world
    from web.management.commands.sandbox import demo_report_records

    seed_demo(tmp_path)
    brightpath = Client.objects.get(name="Brightpath Coaching")
    rua = address_text(dmarc_address_for(brightpath), "mail.launchready.test")
    world = build_world()
    assert demo_report_records(world.zone) == ["_dmarc.brightpath.test"]  # the others have no report
    (record,) = [r.value for r in world.zone.records if r.name == "_dmarc.brightpath.test"]
    assert record == f"v=DMARC1; p=none; rua=mailto:{rua}"
    world_sandbox.load(world.zone)
    target = AuditTarget.from_domain(Domain.objects.get(name="brightpath.test"))
    outcome = asyncio.run(run_audit(target, config=world_sandbox.net_config()))
    ids = {f.check_id for f in outcome.findings}
    assert "email.dmarc.none_no_reports" not in ids  # the page shows its reports: the audit no longer denies them
    assert "email.dmarc.none_with_reports" in ids
