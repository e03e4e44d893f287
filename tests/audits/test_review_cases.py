"""Cases that once misreported: partial runs, CSRF cookies, non-loading links, filtered verdicts, two-factor
rules across workspaces, foreign --host names."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audits.checks.headers import Grade, header_findings
from audits.checks.redirects import insecure_resources
from audits.engine import AuditOutcome
from audits.lifecycle import audit_run_finish, history_for
from audits.models import AuditFinding, AuditRun
from audits.target import AuditTarget
from launchready.net import Hop
from tests.conftest import Tenant, login
from tests.factories import MembershipFactory, WorkspaceFactory


def _finding(run: AuditRun, check_id: str, severity: str, subject: str = "x") -> AuditFinding:
    return AuditFinding.objects.create(
        run=run,
        check_id=check_id,
        subject=subject,
        area=check_id.split(".")[0],
        severity=severity,
        item="ssl",
        title=check_id,
        explanation="e",
        fix="f",
    )


@pytest.mark.django_db
def test_a_check_that_failed_proves_nothing_fixed(tenant: Tenant) -> None:
    before = AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.DONE, finished_at=timezone.now())
    _finding(before, "tls.expired", "blocker", "www.example.com")
    _finding(before, "headers.csp_missing", "medium", "www.example.com")
    run = AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.RUNNING)
    finished = audit_run_finish(run, AuditOutcome(failed_checks=["tls"]), history_for(run))
    changes = dict(finished.findings.values_list("check_id", "change"))
    assert changes == {"tls.expired": "still_open", "headers.csp_missing": "fixed"}
    assert finished.go is False and finished.state == AuditRun.State.PARTIAL


def test_csrf_cookies_are_meant_for_scripts_and_not_flagged() -> None:
    home = Hop(
        "https://www.example.com/",
        status=200,
        headers=[
            ("Set-Cookie", "csrftoken=abc; Path=/; Secure; SameSite=Lax"),
            ("Set-Cookie", "XSRF-TOKEN=abc; Path=/; Secure; SameSite=Lax"),
            ("Set-Cookie", "sessionid=abc; Path=/"),
        ],
    )
    findings = header_findings(AuditTarget("example.com"), home, None, Grade())
    flagged = [f.params["cookie"] for f in findings if f.check_id == "headers.cookie_insecure"]
    assert flagged == ["sessionid"]


def test_links_that_load_nothing_are_not_mixed_content() -> None:
    html = """<link rel="canonical" href="http://example.com/"><link rel="alternate" href="http://example.com/feed">
    <link rel="preconnect" href="http://cdn.example.com"><link rel="stylesheet" href="http://cdn.example.com/a.css">
    <script src="http://cdn.example.com/a.js"></script><img src="http://example.com/a.png">"""
    assert insecure_resources(html) == ["http://cdn.example.com/a.css", "http://cdn.example.com/a.js"]


@pytest.mark.django_db
def test_the_verdict_counts_every_open_finding_whatever_the_filter(tenant: Tenant) -> None:
    run = AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.DONE, finished_at=timezone.now())
    _finding(run, "tls.expired", "blocker")
    _finding(run, "headers.nosniff_missing", "low")
    page = login(tenant.consultant).get(reverse("client_risks", args=[tenant.client.code]), {"severity": "low"})
    assert "1 blocker to fix before launch" in page.content.decode()


@pytest.mark.django_db
def test_two_factor_required_by_any_workspace_applies_in_every_workspace(tenant: Tenant) -> None:
    strict = WorkspaceFactory(require_mfa=True)
    MembershipFactory(user=tenant.consultant, workspace=strict, role=Role.CONSULTANT)
    http = login(tenant.consultant)
    http.post(reverse("workspace_switch"), {"workspace": str(tenant.client.workspace.code)})
    response = http.get(reverse("client_detail", args=[tenant.client.code]))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    Authenticator.objects.create(user=tenant.consultant, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert http.get(reverse("client_detail", args=[tenant.client.code])).status_code == 200


def test_the_shell_audit_refuses_a_host_of_another_domain() -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    result = subprocess.run(
        [sys.executable, "manage.py", "audit", "example.com", "--host", "api.other.com"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "not a name under example.com" in result.stderr
