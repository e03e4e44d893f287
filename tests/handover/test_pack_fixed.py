"""'What we fixed' in the handover pack lists findings an earlier audit had open and a later one closed,
never what was clean from the start; what the sprint checked is shown apart, with its evidence."""

from __future__ import annotations

import pytest

from audits.models import AuditFinding, AuditRun
from handover.pack import build_pack
from handover.publish import pack_render
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def _finding(run: AuditRun, check_id: str, title: str, change: str) -> None:
    AuditFinding.objects.create(
        run=run,
        check_id=check_id,
        subject=run.domain.name,
        area=check_id.split(".")[0],
        severity="medium",
        item="redirects" if check_id.startswith("redirect.") else "email_authentication",
        title=title,
        explanation="Why it matters.",
        fix="How to fix it.",
        change=change,
    )


def _audit(tenant: Tenant) -> AuditRun:
    return AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.DONE, go=True)


def test_at_hour_zero_nothing_is_fixed_and_clean_areas_are_not_called_fixed(tenant: Tenant) -> None:
    _finding(_audit(tenant), "redirect.chain", "Two-hop redirect", "new")
    pack = build_pack(tenant.client)
    html, markdown = pack_render(pack)
    assert pack["fixed"] == []
    assert "Domain setup" in {c["label"] for c in pack["checked"]}  # clean, checked: not fixed
    fixed_section = html.split("<h3>What we fixed</h3>")[1].split("<h3>")[0]
    assert "Nothing fixed yet: no finding of an earlier audit has been closed by a later one." in fixed_section
    assert "Domain setup" not in fixed_section and "✓" not in fixed_section
    assert "<h3>Checked and in order</h3>" in html
    fixed_md = markdown.split("### What we fixed")[1].split("###")[0]
    assert "Nothing fixed yet" in fixed_md and "Domain setup" not in fixed_md
    assert "### Checked and in order" in markdown


def test_a_finding_open_in_one_audit_and_closed_in_the_next_is_fixed(tenant: Tenant) -> None:
    first = _audit(tenant)
    _finding(first, "email.dmarc.missing", "No DMARC record", "new")
    second = _audit(tenant)
    _finding(second, "email.dmarc.missing", "No DMARC record", "fixed")
    pack = build_pack(tenant.client)
    assert [f["title"] for f in pack["fixed"]] == ["No DMARC record"]
    html, _ = pack_render(pack)
    assert "No DMARC record" in html.split("<h3>What we fixed</h3>")[1].split("<h3>")[0]


def test_before_any_audit_the_pack_never_says_no_risk_is_open(tenant: Tenant) -> None:
    html, markdown = pack_render(build_pack(tenant.client))
    for text in (html, markdown):
        assert "No high or medium risk is open." not in text
        assert "Not known yet: no audit has finished, so nothing here says the launch is safe." in text
    assert '<span class="n">—</span><span class="l">open risks: not known before an audit</span>' in html
    assert "| Not audited yet | no data yet | no data yet | not known before an audit |" in markdown
    _audit(tenant)
    html, markdown = pack_render(build_pack(tenant.client))
    assert "No high or medium risk is open." in html and "No high or medium risk is open." in markdown
