"""Hostile DNS and servers, and targets the SSRF guard refuses: the audit ends in findings, within its
deadline, without crashing and without a hung check."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from audits.catalog import render
from audits.engine import run_audit
from audits.findings import Severity
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import HEALTHY, HOSTILE
from tests.audits.conftest import target_for


def test_a_domain_whose_every_server_misbehaves_ends_in_findings_in_time(world_sandbox: Sandbox) -> None:
    config = dataclasses.replace(world_sandbox.net_config(), request_deadline=3.0, dns_lifetime=2.0)
    target = target_for(HOSTILE, labels=["app", "api", "portal"])
    started = time.monotonic()
    outcome = asyncio.run(run_audit(target, config=config, deadline=25))
    elapsed = time.monotonic() - started
    ids = {f.check_id for f in outcome.findings}
    assert elapsed < 25 + 5, "the deadline holds even when servers hang and drip"
    assert "audit.check_failed" not in ids, [f.evidence for f in outcome.findings if f.check_id == "audit.check_failed"]
    assert {
        "redirect.too_many",
        "tls.unreachable",
        "dns.cname.loop",
        "email.spf.too_many_lookups",
        "email.dmarc.syntax",
        "email.mta_sts.missing",
        "email.tls_rpt.missing",
    } <= ids
    assert any(f.check_id == "route.unreachable" and "login" in f.subject for f in outcome.findings)
    for finding in outcome.findings:
        text = render(finding)
        assert text["title"] and "Traceback" not in text["explanation"]


def test_the_spf_include_loop_and_50_includes_are_a_finding_not_a_hang(world_sandbox: Sandbox) -> None:
    from audits.email import spf
    from launchready.net import Net

    async def analyse() -> spf.SpfAnalysis:
        async with Net(world_sandbox.net_config()) as net:
            return await spf.analyse(net, HOSTILE)

    analysis = asyncio.run(analyse())
    assert analysis.loops or analysis.dns_lookups > 10


def test_in_production_a_private_target_is_refused_with_a_finding(world_sandbox: Sandbox) -> None:
    config = dataclasses.replace(world_sandbox.net_config(), allow_private_targets=False)
    served_before = world_sandbox.web.requests  # type: ignore[union-attr]
    outcome = asyncio.run(run_audit(target_for(HEALTHY), config=config, deadline=20))
    refused = [f for f in outcome.findings if f.check_id == "dns.host.refused"]
    assert {f.subject for f in refused} >= {HEALTHY, f"www.{HEALTHY}", f"app.{HEALTHY}"}
    assert "loopback" in render(refused[0])["explanation"]
    assert world_sandbox.web.requests == served_before, "no connection is made to a refused address"  # type: ignore[union-attr]
    assert not any(f.check_id == "audit.check_failed" for f in outcome.findings)
    assert not any(f.severity == Severity.BLOCKER and f.check_id.startswith("tls.") for f in outcome.findings)
