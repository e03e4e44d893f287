"""Every check, on the sandbox: the domain built to trip it does, and the healthy domain does not."""

from __future__ import annotations

import asyncio

import pytest

from audits.catalog import CATALOG, render, route_impact, severity_of
from audits.checks.routes import evaluate_route, kind_label
from audits.engine import AuditOutcome, run_audit
from audits.findings import Severity
from audits.journey_findings import JOURNEY_IDS
from audits.secrets.lognames import LOG_RULE_IDS
from audits.target import RouteSpec
from launchready.models import Route
from launchready.net import FetchResult, Hop
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import HEALTHY, TRIPS, Knobs, build_world
from launchready.sandbox.web import WebSandbox
from tests.audits.conftest import only_declared_ids, target_for

EXTRA_LABELS = {"dns.cname.dangling": ["app", "api", "shop"], "dns.cname.loop": ["app", "api", "portal"]}
# Checks that only ever report facts, or that guard the audit itself: nothing to trip on a domain.
NOT_TRIPPED_BY_A_DOMAIN = {
    "tls.certificate",
    "headers.grade",
    "dns.ipv6.missing",
    "dns.dnssec.off",
    "email.mta_sts.missing",
    "email.tls_rpt.missing",
    "email.dmarc.psl_disagrees",
    "audit.check_failed",
    "audit.deadline",
    "dns.host.refused",  # the sandbox lives on loopback: tests/audits/test_verdicts.py trips these with the guard on
    "dns.ns.refused",
    "dns.ns.inconsistent",
    "email.spf.dns_failure",
    "email.dmarc.dns_failure",
    # Found by the repository scan, not by auditing a domain (tests/audits/test_repo_scan.py trips them).
    "secrets.repo.key",
    "secrets.repo.publishable",
    "secrets.repo.google_key",
    "secrets.repo.firebase_key",
    "secrets.repo.env_file",
    "secrets.log.unchecked",
    "secrets.repo.unchecked",
    "secrets.repo.debug",
    "env.undocumented",
    "env.example_missing",
}
# The repository scan's log-hygiene rules, tripped by a planted call per language: tests/audits/test_log_hygiene.py.
NOT_TRIPPED_BY_A_DOMAIN |= LOG_RULE_IDS
# A sign-in callback that redirects: no sandbox domain has one; tests/audits/test_webhooks.py sets one up.
NOT_TRIPPED_BY_A_DOMAIN |= {"redirect.on_callback"}
# A fact of the good state (what serves the site), seen on the healthy domain: tests/audits/test_checks.py below.
NOT_TRIPPED_BY_A_DOMAIN |= {"edge.cdn"}
# Tripped by a message sent to the product's receiver, not by a domain: tests/audits/inbound/.
NOT_TRIPPED_BY_A_DOMAIN |= {check_id for check_id in CATALOG if check_id.startswith("email.send.")}
# Tripped by a client's AI assistant, not by its domain: tests/audits/test_assistant.py.
NOT_TRIPPED_BY_A_DOMAIN |= {check_id for check_id in CATALOG if check_id.startswith("assistant.")}
# Tripped by a journey's run against the sandbox's app, not by an audit: tests/audits/test_risk_journeys.py.
NOT_TRIPPED_BY_A_DOMAIN |= JOURNEY_IDS


def audit(sandbox: Sandbox, apex: str, labels: list[str] | None = None) -> AuditOutcome:
    """Audit one sandbox domain, checking on the way that each check produces only the ids it declares."""
    target = target_for(apex, labels=labels)
    return asyncio.run(run_audit(target, config=sandbox.net_config(), progress=only_declared_ids))


@pytest.fixture(scope="module")
def healthy(world_sandbox: Sandbox) -> AuditOutcome:
    return audit(world_sandbox, HEALTHY)


def test_the_healthy_domain_is_launch_ready(healthy: AuditOutcome) -> None:
    serious = [f"{f.check_id} {f.subject}" for f in healthy.findings if severity_of(f) != Severity.INFO]
    assert serious == []
    assert not healthy.partial


def test_every_check_in_the_catalog_has_a_tripping_domain() -> None:
    assert set(CATALOG) - NOT_TRIPPED_BY_A_DOMAIN - {"dns.host.missing"} <= set(TRIPS) | {"dns.host.missing"}


@pytest.mark.parametrize("check_id", sorted(TRIPS))
def test_the_tripping_domain_trips_it_and_the_healthy_one_does_not(
    check_id: str, world_sandbox: Sandbox, healthy: AuditOutcome
) -> None:
    apex, _ = TRIPS[check_id]
    outcome = audit(world_sandbox, apex, EXTRA_LABELS.get(check_id))
    tripped = [f for f in outcome.findings if f.check_id == check_id]
    assert tripped, f"{apex} should trip {check_id}; saw {sorted({f.check_id for f in outcome.findings})}"
    assert check_id not in {f.check_id for f in healthy.findings}
    text = render(tripped[0])
    assert "…" not in text["title"] + text["explanation"] + text["fix"], text
    assert tripped[0].evidence or check_id.startswith(("headers.", "exposure.")), "a finding shows what was seen"


def test_a_failing_nameserver_question_is_a_lookup_failure_of_the_apex() -> None:
    apex = "ns-servfail.test"
    world = build_world({apex: Knobs()})
    world.zone.behave(apex, servfail=True, rdtypes=("NS",))
    with Sandbox(world.zone, web=WebSandbox(world.sites)) as sandbox:
        outcome = audit(sandbox, apex)
    failures = [f for f in outcome.findings if f.check_id == "dns.host.failure"]
    assert [(f.subject, f.evidence, f.params, f.host) for f in failures] == [
        (apex, {"NS": "servfail"}, {"host": apex, "status": "servfail"}, apex)
    ]
    assert not outcome.partial and "dns.domain.unreachable" not in {f.check_id for f in outcome.findings}


def test_severity_follows_the_route_kind(world_sandbox: Sandbox) -> None:
    outcome = audit(world_sandbox, "login-500.test")
    login = next(f for f in outcome.findings if f.check_id == "route.unexpected_status")
    assert severity_of(login) == Severity.BLOCKER
    assert "500" in render(login)["title"]
    assert render(login)["explanation"].endswith(route_impact(Route.Kind.LOGIN))
    assert login.route_kind == Route.Kind.LOGIN and login.host == "app.login-500.test"


def test_a_route_finding_names_its_kind_as_people_write_it() -> None:
    labels = {kind: kind_label(kind) for kind in Route.Kind.values}
    assert labels["api_health"] == "API health" and labels["auth_callback"] == "Auth callback"
    assert labels["login"] == "Login" and labels["homepage"] == "Homepage"
    assert kind_label("status_page") == "Status page"  # a kind the model does not know yet


def test_email_findings_propose_the_exact_record(world_sandbox: Sandbox) -> None:
    outcome = audit(world_sandbox, "no-dmarc.test")
    finding = next(f for f in outcome.findings if f.check_id == "email.dmarc.missing")
    assert 'TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@no-dmarc.test"' in render(finding)["fix"]
    outcome = audit(world_sandbox, "spf-provider.test")
    finding = next(f for f in outcome.findings if f.check_id == "email.spf.provider_missing")
    assert "v=spf1 ip4:192.0.2.1 include:_spf.google.com ~all" in render(finding)["fix"]


def test_the_audit_keeps_a_dns_inventory(healthy: AuditOutcome) -> None:
    kinds = {(r.name, r.rdtype) for r in healthy.inventory}
    assert (f"www.{HEALTHY}", "A") in kinds
    assert (HEALTHY, "MX") in kinds
    assert (f"_dmarc.{HEALTHY}", "TXT") in kinds
    assert all(r.ttl >= 0 for r in healthy.inventory)


def test_ipv6_and_dnssec_are_reported_as_facts(world_sandbox: Sandbox, healthy: AuditOutcome) -> None:
    from launchready.sandbox.scenarios import FACTS_PRESENT

    present = {f.check_id for f in audit(world_sandbox, FACTS_PRESENT).findings}
    absent = {f.check_id for f in healthy.findings}
    assert {"dns.ipv6.missing", "dns.dnssec.off"} <= absent
    assert not {"dns.ipv6.missing", "dns.dnssec.off"} & present


def test_the_cdn_in_front_is_recorded_as_evidence_and_its_absence_as_a_finding(
    world_sandbox: Sandbox, healthy: AuditOutcome
) -> None:
    cdn = [f for f in healthy.findings if f.check_id == "edge.cdn"]
    seen = [(f.subject, f.evidence["cdn"], severity_of(f)) for f in cdn]
    assert seen == [(f"www.{HEALTHY}", "Cloudflare", Severity.INFO)]
    bare = {f.check_id for f in audit(world_sandbox, "no-cdn.test").findings}
    assert "edge.no_cdn" in bare and "edge.cdn" not in bare


def _timed(ms: float, lag_ms: float = 0.0) -> FetchResult:
    hop = Hop("https://app.example.test/", status=200, elapsed_ms=ms, ttfb_ms=ms / 2)
    return FetchResult([hop], lag_ms=lag_ms)


@pytest.mark.parametrize(
    ("samples_ms", "slow"),
    [
        ([120, 90, 110, 95, 100], False),
        ([900, 90, 110, 95, 100], False),  # one cold connection or busy moment in five: not a slow route
        ([900, 90, 700, 95, 100], True),
        ([640, 610, 620, 630, 650], True),
    ],
)
def test_a_route_is_slow_when_more_than_one_sample_is_over_budget(samples_ms: list[float], slow: bool) -> None:
    samples = [_timed(ms) for ms in samples_ms]
    findings = evaluate_route(RouteSpec("https://app.example.test/", Route.Kind.HOMEPAGE), _timed(50), samples)
    assert [f.check_id for f in findings] == (["route.slow_p95"] if slow else [])
    if slow:
        assert findings[0].params["p95"] == max(samples_ms)


def test_what_the_timer_spent_on_other_work_is_not_counted_against_the_route() -> None:
    route = RouteSpec("https://app.example.test/", Route.Kind.HOMEPAGE)
    busy = [_timed(900, lag_ms=820), _timed(700, lag_ms=650), *(_timed(100) for _ in range(3))]
    assert evaluate_route(route, _timed(5000), busy) == []  # the page's own timer counts for nothing
    slow = [_timed(900, lag_ms=100), _timed(700, lag_ms=50), *(_timed(100) for _ in range(3))]
    (finding,) = evaluate_route(route, _timed(50), slow)
    assert finding.check_id == "route.slow_p95" and finding.evidence["samples_ms"] == [800, 650, 100, 100, 100]
