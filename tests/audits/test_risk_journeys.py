"""A customer journey's latest run on the client's risk list, run for real against the sandbox's SaaS app: a
sign-in journey that fails is a launch blocker in plain English (customers cannot sign in, the journey, the
failing step and why), the client's verdict and every count of its blockers say no-go, and the next run that
passes marks it fixed; another journey's failure is high; a deleted journey takes its finding; neither the test
account's password nor another tenant's journey ever shows."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audits.findings import Area, Item, LaunchVerdict, Severity
from audits.models import AuditRun, JourneyFinding
from audits.risk import export, risk_list
from launchready.models import ClientStatus
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.saas_app import ACCOUNT_EMAIL, ACCOUNT_PASSWORD, APEX_OF, Flaw
from monitoring.journey_scheduler import tick
from monitoring.journey_steps import Assertion, StepSpec
from monitoring.journey_templates import sign_in
from monitoring.journeys import create_journey, run_journey_now, save_steps, set_secret
from monitoring.models import Deploy, Journey
from monitoring.smoke import smoke_test
from reports.weekly import build_report
from tests.conftest import Tenant, login
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db

SIGN_IN = "Customers cannot sign in: the journey “Sign in → dashboard” fails: "


def _steps(flaw: Flaw) -> list[StepSpec]:
    apex = APEX_OF[flaw]
    return sign_in(f"https://app.{apex}/login", f"https://app.{apex}/dashboard")


def _sign_in_journey(tenant: Tenant, flaw: Flaw, name: str = "Sign in → dashboard", **fields: object) -> Journey:
    """A sign-in journey on the sandbox's app with this flaw; the client has the working app's domain too."""
    for apex in {APEX_OF[flaw], APEX_OF[Flaw.NONE]}:
        if not tenant.client.domains.filter(name=apex).exists():
            DomainFactory(client=tenant.client, name=apex)
    journey = create_journey(tenant.client, name, _steps(flaw), **fields)
    for secret, value in (("email", ACCOUNT_EMAIL), ("password", ACCOUNT_PASSWORD)):
        set_secret(journey, secret, value)
    return journey


def _status(tenant: Tenant) -> ClientStatus:
    return ClientStatus.objects.get(client=tenant.client)


def _journey_findings(tenant: Tenant) -> list[JourneyFinding]:
    return [f for f in risk_list(tenant.client).all_open if isinstance(f, JourneyFinding)]


def test_a_failing_sign_in_is_a_blocker_until_a_run_passes(sandbox_env: Sandbox, tenant: Tenant) -> None:
    journey = _sign_in_journey(tenant, Flaw.CSRF_REJECTED)
    assert not run_journey_now(journey).ok

    risks = risk_list(tenant.client)
    (finding,) = risks.findings
    assert isinstance(finding, JourneyFinding)
    assert finding.title == SIGN_IN + "“Sign in” was refused as a cross-site request forgery: 403 (Forbidden)"
    assert finding.check_id == "journey.sign_in.failing"
    assert (finding.severity, finding.area, finding.item) == (Severity.BLOCKER, Area.ROUTES, Item.UPTIME)
    assert finding.change == JourneyFinding.Change.NEW
    assert finding.source == "Journey Sign in → dashboard"
    assert finding.explanation.startswith("The latest run of “Sign in → dashboard” (Run now) failed at step 2 of 3")
    assert "says the request failed its CSRF check" in finding.explanation  # the run page's own words
    assert "CSRF_TRUSTED_ORIGINS" in finding.fix
    assert finding.evidence["step"] == "2. Sign in" and finding.evidence["status"] == 403
    # The client's verdict, and every figure that counts its blockers, say no-go.
    assert risks.verdict == LaunchVerdict.NO_GO and risks.go is False and risks.blockers == 1
    assert (_status(tenant).verdict, _status(tenant).blockers) == (LaunchVerdict.NO_GO, 1)
    data = export(tenant.client)
    assert data["verdict"] == "no_go" and data["go"] is False
    assert [f["title"] for f in data["findings"]] == [finding.title]
    weekly = build_report(tenant.client, timezone.localdate())["summary"]
    assert (weekly["blockers"], weekly["verdict"], weekly["go"]) == (1, "no_go", False)
    http = login(tenant.consultant)
    dashboard = http.get(reverse("dashboard")).content.decode()
    assert "No-go · 1 blocker</span>" in dashboard
    page = http.get(reverse("client_risks", args=[tenant.client.code])).content.decode()
    assert "Customers cannot sign in" in page and "Sign in → dashboard" in page
    downloaded = http.get(reverse("client_risks_json", args=[tenant.client.code])).content.decode()
    assert "Customers cannot sign in" in downloaded
    for text in (downloaded, page, json.dumps(data), json.dumps(finding.evidence)):
        assert ACCOUNT_PASSWORD not in text and json.dumps(ACCOUNT_PASSWORD)[1:-1] not in text

    # Fixed: the same journey passes on its next run.
    save_steps(journey, _steps(Flaw.NONE))
    assert run_journey_now(journey).ok
    risks = risk_list(tenant.client)
    assert risks.all_open == [] and risks.blockers == 0
    (fixed,) = risks.fixed
    assert fixed.id == finding.id and fixed.get_change_display() == "Fixed"
    assert risks.verdict is None  # the client was never audited: a passing journey alone says nothing of go
    assert (_status(tenant).verdict, _status(tenant).blockers) == ("", 0)
    assert export(tenant.client)["fixed"] == [
        {"check_id": "journey.sign_in.failing", "subject": str(journey.code), "title": finding.title}
    ]

    # Broken again: back on the list as regressed.
    save_steps(journey, _steps(Flaw.CSRF_REJECTED))
    assert not run_journey_now(journey).ok
    (again,) = _journey_findings(tenant)
    assert again.change == JourneyFinding.Change.REGRESSED and _status(tenant).blockers == 1


@pytest.mark.parametrize(
    ("flaw", "why"),
    [
        (Flaw.COOKIE_WRONG_HOST, "“Sign in”: the session is lost on the way to saas-cookie-host.test"),
        (Flaw.LOOP_AFTER_SIGN_IN, "“Sign in” ends in a redirect loop"),
        (Flaw.DASHBOARD_500, "“Sign in” answered 500 (Internal Server Error)"),
    ],
)
def test_each_broken_sign_in_says_why_customers_cannot_sign_in(
    sandbox_env: Sandbox, tenant: Tenant, flaw: Flaw, why: str
) -> None:
    journey = _sign_in_journey(tenant, flaw)
    run = run_journey_now(journey)
    assert not run.ok
    (finding,) = _journey_findings(tenant)
    assert finding.title.startswith(SIGN_IN + why), finding.title
    assert finding.title.removeprefix(SIGN_IN) == run.summary  # the run page's verdict, word for word
    assert finding.severity == Severity.BLOCKER and risk_list(tenant.client).verdict == LaunchVerdict.NO_GO
    assert ACCOUNT_PASSWORD not in json.dumps(export(tenant.client))


def test_an_audited_client_that_was_go_is_no_go_while_sign_in_fails(sandbox_env: Sandbox, tenant: Tenant) -> None:
    AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.DONE, go=True, verdict="go", counts={})
    assert risk_list(tenant.client).verdict == LaunchVerdict.GO and _status(tenant).verdict == LaunchVerdict.GO
    journey = _sign_in_journey(tenant, Flaw.DASHBOARD_500)
    assert not run_journey_now(journey).ok
    assert risk_list(tenant.client).verdict == LaunchVerdict.NO_GO
    assert (_status(tenant).verdict, _status(tenant).blockers) == (LaunchVerdict.NO_GO, 1)
    journey.delete()  # a deleted journey takes its finding with it
    assert JourneyFinding.objects.filter(client=tenant.client).count() == 0
    assert risk_list(tenant.client).verdict == LaunchVerdict.GO
    assert (_status(tenant).verdict, _status(tenant).blockers) == (LaunchVerdict.GO, 0)


def test_scheduled_runs_and_the_deploy_smoke_test_reach_the_risk_list(sandbox_env: Sandbox, tenant: Tenant) -> None:
    tenant.domain.delete()  # the smoke test probes the client's routes too: only the sandbox's app here
    journey = _sign_in_journey(tenant, Flaw.LOOP_AFTER_SIGN_IN, next_due_at=timezone.now() - timedelta(seconds=1))
    assert tick(timezone.now()) == 1
    (finding,) = _journey_findings(tenant)
    assert "(Monitor)" in finding.explanation and finding.evidence["trigger"] == "Monitor"
    save_steps(journey, _steps(Flaw.NONE))
    deploy = smoke_test(Deploy.objects.create(client=tenant.client, version="v2"))
    assert deploy.smoke == Deploy.Smoke.PASSED
    assert _journey_findings(tenant) == [] and _status(tenant).blockers == 0
    (fixed,) = risk_list(tenant.client).fixed
    assert fixed.change == JourneyFinding.Change.FIXED


def test_another_journey_failing_is_high_and_no_blocker(sandbox_env: Sandbox, tenant: Tenant) -> None:
    apex = APEX_OF[Flaw.NONE]
    DomainFactory(client=tenant.client, name=apex)
    page = StepSpec(
        name="Open the pricing page", url=f"https://app.{apex}/pricing", assertions=(Assertion("status", "200"),)
    )
    journey = create_journey(tenant.client, "Pricing", [page])
    run = run_journey_now(journey)
    assert not run.ok
    (finding,) = _journey_findings(tenant)
    assert finding.check_id == "journey.path.failing" and finding.severity == Severity.HIGH
    assert finding.title == f"A customer path is broken: the journey “Pricing” fails: {run.summary}"
    risks = risk_list(tenant.client)
    assert risks.blockers == 0 and risks.verdict is None  # high alone gives no verdict to a client never audited
    assert _status(tenant).blockers == 0


def test_another_tenants_journey_never_shows(sandbox_env: Sandbox, tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = _sign_in_journey(other_tenant, Flaw.CSRF_REJECTED, name="Their sign-in")
    assert not run_journey_now(theirs).ok
    assert len(_journey_findings(other_tenant)) == 1 and _status(other_tenant).blockers == 1
    assert _journey_findings(tenant) == []
    assert ClientStatus.objects.filter(client=tenant.client, blockers__gt=0).count() == 0
    http = login(tenant.consultant)
    for name in ("client_risks", "client_risks_json", "client_detail"):
        text = http.get(reverse(name, args=[tenant.client.code])).content.decode()
        assert "Their sign-in" not in text and "Customers cannot sign in" not in text
    assert http.get(reverse("client_risks", args=[other_tenant.client.code])).status_code == 404
