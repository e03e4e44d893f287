"""Webhooks in the audit: one unsigned event POSTed to each webhook route through the sandbox. A webhook that
refuses it at once reports nothing; one that redirects it, accepts it, fails on it, does not exist, refuses POST
or is slow gets one finding, in plain English, on the risk list beside the other route findings, and no other
check reports the same thing again."""

from __future__ import annotations

import asyncio
import re

import pytest

from audits.catalog import CATALOG, render, severity_of
from audits.checks.webhooks import FAST_MS, PROBE_BODY, evaluate_webhook
from audits.engine import AuditOutcome, checks_for, run_audit
from audits.evidence import evidence_html
from audits.findings import Area, Finding, Item, Severity
from audits.risk import impact_rank
from audits.sandbox_targets import sandbox_target
from audits.target import AuditTarget, RouteSpec
from launchready.models import Route
from launchready.net import FetchError, FetchResult, Hop
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import HEALTHY
from tests.audits.conftest import only_declared_ids
from tests.conftest import Tenant
from tests.factories import DomainFactory

WEBHOOK_IDS = {check_id for check_id in CATALOG if check_id.startswith("webhook.")}


def saas_target(apex: str) -> AuditTarget:
    """The fake SaaS app as a consultant would set it up: served on the apex and app., its API and webhook on api."""
    return AuditTarget(
        apex=apex,
        canonical="apex",
        labels=["app", "api"],
        routes=[
            RouteSpec(f"https://{apex}/", Route.Kind.HOMEPAGE),
            RouteSpec(f"https://app.{apex}/login", Route.Kind.LOGIN, (200,), "Sign in"),
            RouteSpec(f"https://api.{apex}/health", Route.Kind.API_HEALTH),
            RouteSpec(f"https://api.{apex}/webhooks/stripe", Route.Kind.WEBHOOK, (200, 400, 405)),
        ],
    )


def audit(sandbox: Sandbox, target: AuditTarget) -> AuditOutcome:
    return asyncio.run(run_audit(target, config=sandbox.net_config(), progress=only_declared_ids))


def target_of(apex: str) -> AuditTarget:
    return saas_target(apex) if apex.startswith("saas-") else sandbox_target(apex)


def posts_to(sandbox: Sandbox, apex: str) -> list[dict[str, object]]:
    received = sandbox.web.received  # type: ignore[union-attr]
    return [r for r in received if r["host"] == f"api.{apex}" and r["path"] == "/webhooks/stripe"]


BROKEN = [
    (
        "saas-webhook-redirect.test",
        "webhook.redirects",
        "The webhook https://api.saas-webhook-redirect.test/webhooks/stripe answers an event with a redirect: "
        "301 (Moved Permanently)",
    ),
    (
        "saas-webhook-unsigned.test",
        "webhook.accepts_unsigned",
        "The webhook https://api.saas-webhook-unsigned.test/webhooks/stripe accepts an event with no signature",
    ),
    (
        "webhook-redirect.test",
        "webhook.redirects",
        "The webhook https://api.webhook-redirect.test/webhooks/stripe answers an event with a redirect: "
        "301 (Moved Permanently)",
    ),
    (
        "webhook-unsigned.test",
        "webhook.accepts_unsigned",
        "The webhook https://api.webhook-unsigned.test/webhooks/stripe accepts an event with no signature",
    ),
    (
        "webhook-500.test",
        "webhook.fails_unsigned",
        "The webhook https://api.webhook-500.test/webhooks/stripe fails with 500 (Internal Server Error) on an "
        "event with no signature",
    ),
    (
        "webhook-missing.test",
        "webhook.not_found",
        "The webhook https://api.webhook-missing.test/webhooks/stripe does not exist: 404 (Not Found)",
    ),
    (
        "webhook-get-only.test",
        "webhook.post_refused",
        "The webhook https://api.webhook-get-only.test/webhooks/stripe refuses POST: 405 (Method Not Allowed)",
    ),
    (
        "webhook-slow.test",
        "webhook.slow",
        "The webhook https://api.webhook-slow.test/webhooks/stripe takes {seconds} s to answer an event",
    ),
]


@pytest.mark.parametrize(("apex", "check_id", "title"), BROKEN, ids=[f"{a}:{c}" for a, c, _ in BROKEN])
def test_the_audit_reports_a_broken_webhook_once_in_plain_english(
    world_sandbox: Sandbox, apex: str, check_id: str, title: str
) -> None:
    before = len(posts_to(world_sandbox, apex))
    outcome = audit(world_sandbox, target_of(apex))
    url = f"https://api.{apex}/webhooks/stripe"
    (finding,) = [f for f in outcome.findings if f.check_id in WEBHOOK_IDS]
    assert finding.check_id == check_id
    # A measured time is the server's delay and a little more: the figure is read from the title, not fixed.
    pattern = re.escape(title).replace(re.escape("{seconds}"), r"(\d+\.\d)")
    matched = re.fullmatch(pattern, render(finding)["title"])
    assert matched is not None, render(finding)["title"]
    assert all(float(seconds) >= 2.0 for seconds in matched.groups())
    assert finding.subject == url and finding.host == f"api.{apex}" and finding.route_kind == Route.Kind.WEBHOOK
    assert severity_of(finding) == (Severity.MEDIUM if check_id == "webhook.slow" else Severity.HIGH)
    assert CATALOG[check_id].area == Area.ROUTES
    assert finding.evidence["url"] == url and finding.evidence["ms"] >= 0
    # One place for each fact: neither the routes check's GET nor the callback check says it again.
    assert [f.check_id for f in outcome.findings if f.subject == url] == [check_id]
    # One event per webhook route, and only one, whatever the answer.
    assert len(posts_to(world_sandbox, apex)) == before + 1
    assert outcome.dns_queries <= world_sandbox.net_config().max_dns_queries


def test_a_redirect_shows_where_it_sends_the_event(world_sandbox: Sandbox) -> None:
    outcome = audit(world_sandbox, saas_target("saas-webhook-redirect.test"))
    (finding,) = [f for f in outcome.findings if f.check_id == "webhook.redirects"]
    final = "https://api.saas-webhook-redirect.test/webhooks/stripe/"
    assert finding.evidence["status"] == 301 and finding.evidence["location"] == final
    text = render(finding)
    assert f"was sent on to {final}" in text["explanation"]
    assert "every event is retried until the provider disables the endpoint" in text["explanation"]
    assert text["fix"].startswith(f"Register the final address ({final}) with the provider")
    assert CATALOG["webhook.redirects"].item == Item.REDIRECTS


def test_an_accepted_unsigned_event_says_anyone_can_forge_one(world_sandbox: Sandbox) -> None:
    outcome = audit(world_sandbox, saas_target("saas-webhook-unsigned.test"))
    (finding,) = [f for f in outcome.findings if f.check_id == "webhook.accepts_unsigned"]
    assert finding.evidence["status"] == 200 and "location" not in finding.evidence
    text = render(finding)
    assert "It answered 200 (OK) to an event that carried no signature" in text["explanation"]
    assert "anyone who knows the address can send it events" in text["explanation"]
    assert "Stripe-Signature" in text["fix"]
    assert CATALOG["webhook.accepts_unsigned"].item == Item.SECRETS


@pytest.mark.parametrize("target", [saas_target("saas-app.test"), sandbox_target(HEALTHY)], ids=["saas-app", HEALTHY])
def test_a_webhook_that_refuses_an_unsigned_event_reports_nothing(world_sandbox: Sandbox, target: AuditTarget) -> None:
    apex = target.apex
    before = len(posts_to(world_sandbox, apex))
    outcome = audit(world_sandbox, target)
    url = f"https://api.{apex}/webhooks/stripe"
    assert "webhooks" in checks_for(target)
    assert [f.check_id for f in outcome.findings if f.check_id in WEBHOOK_IDS or f.subject == url] == []
    (post,) = posts_to(world_sandbox, apex)[before:]
    assert post["method"] == "POST" and post["body"] == PROBE_BODY
    headers = post["headers"]
    assert isinstance(headers, dict) and headers["content-type"] == "application/json"
    assert "stripe-signature" not in headers


def test_an_unreachable_webhook_is_the_routes_finding_alone(world_sandbox: Sandbox) -> None:
    target = AuditTarget(
        apex="missing-app.test",
        routes=[RouteSpec("https://app.missing-app.test/hooks/stripe", Route.Kind.WEBHOOK, (200, 400, 405))],
    )
    outcome = audit(world_sandbox, target)
    about = [f.check_id for f in outcome.findings if f.subject == "https://app.missing-app.test/hooks/stripe"]
    assert about == ["route.unreachable"]


def test_a_sign_in_callback_that_redirects_is_still_the_redirect_checks(world_sandbox: Sandbox) -> None:
    callback = f"http://app.{HEALTHY}/auth/callback"  # registered over http: the site moves it to https
    target = AuditTarget(
        apex=HEALTHY,
        labels=["app", "api"],
        routes=[
            RouteSpec(callback, Route.Kind.AUTH_CALLBACK, (200, 302)),
            RouteSpec(f"https://api.{HEALTHY}/webhooks/stripe", Route.Kind.WEBHOOK, (200, 400, 405)),
        ],
    )
    outcome = audit(world_sandbox, target)
    (finding,) = [f for f in outcome.findings if f.check_id == "redirect.on_callback"]
    assert finding.subject == callback and finding.evidence["location"] == f"https://app.{HEALTHY}/auth/callback"
    assert "sign-in" in render(finding)["explanation"]


@pytest.mark.usefixtures("fresh_timer")
def test_without_the_timing_process_a_webhook_is_still_judged_on_its_answer(
    world_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from launchready import timing

    monkeypatch.setattr(timing.sys, "executable", "/bin/false")  # the timing process will not start
    apex = "webhook-unsigned.test"
    before = len(posts_to(world_sandbox, apex))
    outcome = audit(world_sandbox, sandbox_target(apex))
    (finding,) = [f for f in outcome.findings if f.check_id in WEBHOOK_IDS]
    assert finding.check_id == "webhook.accepts_unsigned" and finding.evidence["status"] == 200
    assert "ms" not in finding.evidence  # how fast is not said without a timer
    assert len(posts_to(world_sandbox, apex)) == before + 1


def _answer(status: int | None, location: str | None = None, error: FetchError | None = None) -> FetchResult:
    url = "https://api.example.test/webhooks/stripe"
    return FetchResult([Hop(url, status=status, location=location, error=error, method="POST")])


ROUTE = RouteSpec("https://api.example.test/webhooks/stripe", Route.Kind.WEBHOOK)


def test_a_slow_webhook_that_accepts_the_event_gets_both_findings() -> None:
    findings = evaluate_webhook(ROUTE, _answer(204), FAST_MS + 400)
    assert [f.check_id for f in findings] == ["webhook.accepts_unsigned", "webhook.slow"]
    title = render(findings[1])["title"]
    assert title == "The webhook https://api.example.test/webhooks/stripe takes 2.4 s to answer an event"
    assert findings[1].evidence == {"url": ROUTE.url, "status": 204, "ms": 2400}


def test_without_a_timer_the_answer_is_judged_and_its_speed_is_not() -> None:
    (finding,) = evaluate_webhook(ROUTE, _answer(502), None)
    assert finding.check_id == "webhook.fails_unsigned" and "ms" not in finding.evidence
    assert evaluate_webhook(ROUTE, _answer(401), None) == []
    assert evaluate_webhook(ROUTE, _answer(None, error=FetchError.TIMEOUT), 15000) == []


def test_a_redirects_location_is_redacted_shortened_and_escaped() -> None:
    hostile = "https://evil.test/<script>alert(1)</script>?token=sk_live_abcdefghijklmnop&x=" + "y" * 500
    (finding,) = evaluate_webhook(ROUTE, _answer(302, hostile), 30)
    location = finding.evidence["location"]
    assert "sk_live_abcdefghijklmnop" not in location and "[redacted]" in location and len(location) <= 300
    html = str(evidence_html(finding.evidence))
    assert "<script>" not in html and "&lt;script&gt;" in html
    (nowhere,) = evaluate_webhook(ROUTE, _answer(301), 30)
    assert "…" not in "".join(render(nowhere).values())


def test_a_webhook_finding_ranks_with_the_route_findings() -> None:
    apex = "example.test"
    webhook = Finding("webhook.accepts_unsigned", ROUTE.url, host="api.example.test", route_kind=Route.Kind.WEBHOOK)
    login = Finding("route.unexpected_status", "https://app.example.test/login", severity=Severity.HIGH)
    login.host, login.route_kind = "app.example.test", Route.Kind.LOGIN
    homepage = Finding("route.unexpected_status", "https://www.example.test/", host="www.example.test")
    slow = Finding("webhook.slow", ROUTE.url, host="api.example.test", route_kind=Route.Kind.WEBHOOK)
    ranked = sorted([slow, homepage, webhook, login], key=lambda f: impact_rank(f, apex))
    assert ranked == [login, webhook, homepage, slow]


@pytest.mark.django_db
def test_a_clients_webhook_routes_reach_the_audit(tenant: Tenant) -> None:
    domain = DomainFactory(client=tenant.client, name="saas-app.test", hosts=["app", "api"])
    Route.objects.create(domain=domain, host="api", path="/webhooks/stripe", kind=Route.Kind.WEBHOOK)
    Route.objects.create(domain=domain, host="app", path="/login", kind=Route.Kind.LOGIN)
    target = AuditTarget.from_domain(domain)
    webhooks = [r for r in target.routes if r.kind == "webhook"]
    assert [r.url for r in webhooks] == ["https://api.saas-app.test/webhooks/stripe"]
    assert "webhooks" in checks_for(target)
    Route.objects.filter(kind=Route.Kind.WEBHOOK).delete()
    assert "webhooks" not in checks_for(AuditTarget.from_domain(domain))
