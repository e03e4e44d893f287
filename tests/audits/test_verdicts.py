"""Verdicts that match the evidence: a host at a private address is a blocker, an audit that could not check
something is never go, and a domain that does not exist (or whose nameservers answer nobody) gets one
diagnosis with its consequences folded under it. All on the sandbox, the address guard on where it matters."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse
from django.utils import timezone

from audits.catalog import COULD_NOT_CHECK, render, severity_of, verdict_of
from audits.engine import AuditOutcome, run_audit
from audits.findings import LaunchVerdict, Severity
from audits.lifecycle import audit_run_execute, audit_run_finish, history_for
from audits.models import AuditFinding, AuditRun
from audits.risk import risk_list
from audits.target import AuditTarget
from handover.checklist import State, sprint_checklist
from launchready.net import NetConfig
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import FORGOTTEN_ALIASES
from tests.conftest import ROOT, Tenant, login
from tests.factories import DomainFactory

V = LaunchVerdict


def shell_target(apex: str) -> AuditTarget:
    """What `manage.py audit DOMAIN` audits: the apex, www, the usual labels that exist, the homepage."""
    return AuditTarget(apex=apex, canonical_known=False, probe_usual_labels=True)


def audit(config: NetConfig, target: AuditTarget) -> AuditOutcome:
    return asyncio.run(run_audit(target, config=config))


def guarded(sandbox: Sandbox) -> NetConfig:
    """The sandbox with the address guard on, as in production: every sandbox host is on loopback."""
    return dataclasses.replace(sandbox.net_config(), allow_private_targets=False)


def verdict(outcome: AuditOutcome) -> LaunchVerdict:
    found = verdict_of((f.check_id, severity_of(f).value) for f in outcome.findings)
    return V.UNCHECKED if found == V.GO and outcome.partial else found


def production_cli(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    """`manage.py audit` with production settings and the sandbox's resolver, the guard left on."""
    env = {**os.environ, **sandbox.env()}
    env.pop("LAUNCHREADY_ALLOW_PRIVATE_TARGETS")
    env |= {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "app.example.com",
        "SITE_URL": "https://app.example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/launchready"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "LAUNCHREADY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "EMAIL_URL": "smtp://127.0.0.1:2525",
        "DEFAULT_FROM_EMAIL": "Launch Ready <hello@example.com>",
    }
    return sandbox_cli(env, *args)


def sandbox_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "audit", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


# --- A public host at a private address ---------------------------------------------------------------


def test_the_production_shell_audit_says_no_go_when_every_host_is_private(world_sandbox: Sandbox) -> None:
    result = production_cli(world_sandbox, "brightpath.test")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("brightpath.test: NO-GO")
    assert "GO: no launch blocker" not in result.stdout
    assert "www.brightpath.test resolves to 127.0." in result.stdout
    assert "a loopback address: the public cannot reach it  [dns.host.refused]" in result.stdout
    assert "ns1.brightpath.test resolves to 127.0.0.53, a loopback address" in result.stdout
    assert "servfail" not in result.stdout


def test_every_host_at_a_private_address_is_a_blocker_that_names_the_address(world_sandbox: Sandbox) -> None:
    outcome = audit(guarded(world_sandbox), shell_target("brightpath.test"))
    refused = {f.subject: f for f in outcome.findings if f.check_id == "dns.host.refused"}
    assert set(refused) == {f"{h}brightpath.test" for h in ("", "www.", "app.", "api.")}
    app = refused["app.brightpath.test"]
    assert severity_of(app) == Severity.BLOCKER
    assert render(app)["title"] == (
        f"app.brightpath.test resolves to {app.params['address']}, a loopback address: the public cannot reach it"
    )
    assert verdict(outcome) == V.NO_GO


def test_nameservers_the_guard_refused_are_named_refused_not_servfail(world_sandbox: Sandbox) -> None:
    outcome = audit(guarded(world_sandbox), shell_target("brightpath.test"))
    (ns,) = [f for f in outcome.findings if f.check_id.startswith("dns.ns.")]
    assert ns.check_id == "dns.ns.refused" and severity_of(ns) == Severity.BLOCKER
    assert ns.evidence["refused"] == [
        "ns1.brightpath.test resolves to 127.0.0.53, a loopback address",
        "ns2.brightpath.test resolves to 127.0.0.54, a loopback address",
    ]
    assert "could not be checked" in render(ns)["explanation"]
    assert "servfail" not in json.dumps([render(f) for f in outcome.findings]).lower()


def test_the_guard_off_in_the_sandbox_leaves_the_demo_domain_without_a_private_address_finding(
    world_sandbox: Sandbox,
) -> None:
    outcome = audit(world_sandbox.net_config(), shell_target("brightpath.test"))
    assert not {"dns.host.refused", "dns.ns.refused"} & {f.check_id for f in outcome.findings}


# --- Could not check is a verdict of its own -------------------------------------------------------------


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        pytest.param([], V.GO, id="nothing open: go"),
        pytest.param([("headers.csp_missing", "medium"), ("route.slow_p95", "high")], V.GO, id="only work: go"),
        pytest.param([("tls.expired", "blocker")], V.NO_GO, id="a blocker: no-go"),
        pytest.param([("audit.check_failed", "medium"), ("tls.expired", "blocker")], V.NO_GO, id="blocker wins"),
        *(
            pytest.param([("headers.csp_missing", "medium"), (check_id, "high")], V.UNCHECKED, id=f"{check_id}")
            for check_id in sorted(COULD_NOT_CHECK)
        ),
    ],
)
def test_the_verdict_is_never_go_while_something_could_not_be_checked(
    findings: list[tuple[str, str]], expected: LaunchVerdict
) -> None:
    assert verdict_of(findings) == expected


def test_an_audit_that_reached_no_route_could_not_check(world_sandbox: Sandbox) -> None:
    outcome = audit(world_sandbox.net_config(), shell_target("routes-garbage.test"))
    (none_reached,) = [f for f in outcome.findings if f.check_id == "audit.no_route_reached"]
    assert none_reached.evidence == {"routes": ["https://www.routes-garbage.test/"]}
    (unseen,) = [f for f in outcome.findings if f.check_id == "headers.unchecked"]
    assert render(unseen)["title"] == (
        "Security headers, caching and exposure of https://www.routes-garbage.test/ could not be checked"
    )
    assert not [f for f in outcome.findings if severity_of(f) == Severity.BLOCKER]
    assert verdict(outcome) == V.UNCHECKED


def test_the_shell_audit_exits_2_when_it_could_not_check(world_sandbox: Sandbox) -> None:
    result = sandbox_cli({**os.environ, **world_sandbox.env()}, "routes-garbage.test")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.startswith("routes-garbage.test: COULD NOT CHECK")
    assert "could not check: No route of routes-garbage.test could be reached" in result.stderr
    as_json = sandbox_cli({**os.environ, **world_sandbox.env()}, "routes-garbage.test", "--json")
    payload = json.loads(as_json.stdout)
    assert (as_json.returncode, payload["go"], payload["verdict"]) == (2, False, "unchecked")


def test_a_dkim_key_dns_would_not_give_is_could_not_check_not_silently_clean(world_sandbox: Sandbox) -> None:
    from audits.sandbox_targets import sandbox_target

    outcome = audit(world_sandbox.net_config(), sandbox_target("dkim-servfail.test"))
    (failed,) = [f for f in outcome.findings if f.check_id.startswith("email.dkim.")]
    assert failed.check_id == "email.dkim.dns_failure"
    assert failed.evidence["failed"] == {"google._domainkey.dkim-servfail.test": "servfail"}
    assert verdict(outcome) == V.UNCHECKED


@pytest.mark.django_db
def test_a_run_whose_check_failed_could_not_check_even_without_a_blocker(tenant: Tenant) -> None:
    run = AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.RUNNING)
    finished = audit_run_finish(run, AuditOutcome(failed_checks=["tls"]), history_for(run))
    assert (finished.verdict, finished.go, finished.state) == ("unchecked", False, AuditRun.State.PARTIAL)
    assert risk_list(tenant.client).verdict == V.UNCHECKED


@pytest.mark.django_db(transaction=True)
def test_every_page_with_a_verdict_says_could_not_check(sandbox_env: Sandbox, tenant: Tenant) -> None:
    tenant.domain.delete()
    domain = DomainFactory(
        client=tenant.client,
        name="spf-servfail.test",
        hosts=["app", "api"],
        mail_providers=["google"],
        dkim_selectors=["google"],
    )
    run = audit_run_execute(AuditRun.objects.create(domain=domain))
    assert run.verdict == "unchecked" and run.go is False
    assert run.findings.filter(check_id="email.spf.dns_failure").exists()
    assert not run.findings.filter(severity="blocker").exists()
    http = login(tenant.consultant)
    pages = {
        "risk list": reverse("client_risks", args=[tenant.client.code]),
        "client page": reverse("client_detail", args=[tenant.client.code]),
        "run page": reverse("audit_run_detail", args=[run.code]),
        "dashboard": reverse("dashboard"),
        "sprint page": reverse("sprint_detail", args=[tenant.sprint.code]),
    }
    for name, url in pages.items():
        page = http.get(url).content.decode()
        assert "Could not check" in page, name
        assert 'badge-go">Go<' not in page and "<strong>Go</strong>" not in page, name
    risk_page = http.get(pages["risk list"]).content.decode()
    assert (
        "No blocker seen, but part of the audit could not look: "
        "SPF for spf-servfail.test could not be checked. Not a go" in risk_page
    )
    founder = login(tenant.founder).get(pages["client page"]).content.decode()
    assert "Could not check" in founder


# --- A domain that does not exist, or whose nameservers answer nobody -----------------------------------


@pytest.mark.parametrize(
    ("apex", "check_id", "consequence"),
    [
        ("nothing-here.test", "dns.domain.missing", "nothing-here.test has no SPF record"),
        ("dead-ns.test", "dns.domain.unreachable", "www.dead-ns.test"),
    ],
)
def test_a_domain_that_does_not_resolve_gets_one_diagnosis_with_the_rest_folded_under_it(
    world_sandbox: Sandbox, apex: str, check_id: str, consequence: str
) -> None:
    outcome = audit(world_sandbox.net_config(), shell_target(apex))
    (diagnosis,) = outcome.findings
    assert diagnosis.check_id == check_id and severity_of(diagnosis) == Severity.BLOCKER
    consequences = diagnosis.evidence["consequences"]
    assert len(consequences) >= 3 and any(consequence in c for c in consequences), consequences
    assert f"{len(consequences)} other findings follow from this" in render(diagnosis)["explanation"]
    assert outcome.late_findings == [diagnosis]


def test_a_missing_domain_is_diagnosed_in_plain_words() -> None:
    from audits.findings import Finding

    text = render(Finding("dns.domain.missing", "nothing-here.test", params={"domain": "nothing-here.test"}))
    assert text["title"] == "nothing-here.test does not resolve: check the spelling and the registration"


@pytest.mark.django_db(transaction=True)
def test_a_run_under_one_diagnosis_saves_one_finding_and_calls_nothing_fixed(
    sandbox_env: Sandbox, tenant: Tenant
) -> None:
    tenant.domain.delete()
    domain = DomainFactory(client=tenant.client, name="nothing-here.test", hosts=["app"])
    before = AuditRun.objects.create(domain=domain, state=AuditRun.State.DONE, finished_at=timezone.now())
    AuditFinding.objects.create(
        run=before, check_id="headers.csp_missing", subject="www.nothing-here.test", area="headers",
        severity="medium", item="ssl", title="No CSP", explanation="e", fix="f",
    )  # fmt: skip
    run = audit_run_execute(AuditRun.objects.create(domain=domain))
    assert list(run.findings.values_list("check_id", "change")) == [("dns.domain.missing", "new")]
    assert run.verdict == "no_go"
    risks = risk_list(tenant.client)
    assert [f.check_id for f in risks.all_open] == ["dns.domain.missing"] and risks.fixed == []
    items = {i.item.value: i for i in sprint_checklist(tenant.sprint).items}
    assert items["domain_setup"].state == State.BLOCKED
    for unseen in ("ssl", "email_authentication", "redirects", "caching", "cloudflare"):
        assert items[unseen].state == State.TODO, unseen
        assert items[unseen].reason == (
            "Not checked: nothing-here.test does not resolve: check the spelling and the registration."
        )


# --- Discovery keeps the dangerous hosts ----------------------------------------------------------------


def test_the_shell_audit_keeps_a_usual_label_whose_alias_points_at_nothing(world_sandbox: Sandbox) -> None:
    target = shell_target(FORGOTTEN_ALIASES)
    outcome = audit(world_sandbox.net_config(), target)
    assert {"admin", "portal"} <= set(target.labels)
    by_host = {f.subject: f for f in outcome.findings if f.check_id.startswith("dns.")}
    takeover = by_host[f"admin.{FORGOTTEN_ALIASES}"]
    assert takeover.check_id == "dns.cname.dangling" and severity_of(takeover) == Severity.BLOCKER
    gone = by_host[f"portal.{FORGOTTEN_ALIASES}"]
    assert gone.check_id == "dns.host.missing"
    assert "an alias (CNAME) for gone.retired-vendor.test, and that name does not exist" in render(gone)["explanation"]
    assert verdict(outcome) == V.NO_GO


def test_the_shell_audit_leaves_out_usual_labels_that_have_no_record(world_sandbox: Sandbox) -> None:
    target = shell_target(FORGOTTEN_ALIASES)
    audit(world_sandbox.net_config(), target)
    assert target.labels == ["app", "api", "admin", "portal"]  # dashboard. has no record at all


# --- TLS: the chain diagnosis names the cause ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("apex", "expected"),
    [
        pytest.param("root-issued.test", None, id="signed by the trusted root itself: nothing to say"),
        pytest.param(
            "root-no-aki.test",
            ("tls.chain_strict", Severity.LOW, "it carries no Authority Key Identifier (extension 2.5.29.35)"),
            id="root-issued without AKI: browsers accept it, only strict clients refuse",
        ),
        pytest.param(
            "short-chain.test",
            (
                "tls.chain_incomplete",
                Severity.BLOCKER,
                "its issuer, Launch Ready Sandbox Issuing CA, is neither sent nor a trusted root",
            ),
            id="intermediate not sent: incomplete chain",
        ),
        pytest.param(
            "private-ca.test",
            ("tls.untrusted", Severity.BLOCKER, "issued by Acme Corp Internal Root CA, a root no browser trusts"),
            id="a private root sent along: untrusted, not incomplete",
        ),
        pytest.param("self-signed.test", ("tls.untrusted", Severity.BLOCKER, "self-signed"), id="self-signed"),
        pytest.param(
            "client-cert.test",
            ("tls.untrusted", Severity.BLOCKER, "it is not issued for web servers (its Extended Key Usage lacks"),
            id="a trusted chain for a client certificate: browsers refuse it too, and the reason is named",
        ),
    ],
)
def test_the_chain_diagnosis_names_the_cause_with_the_severity_browsers_give_it(
    world_sandbox: Sandbox, apex: str, expected: tuple[str, Severity, str] | None
) -> None:
    from audits.sandbox_targets import sandbox_target

    outcome = audit(world_sandbox.net_config(), sandbox_target(apex))
    chain = {"tls.chain_incomplete", "tls.chain_strict", "tls.untrusted"}
    found = {(f.check_id, severity_of(f), f.evidence["problem"]) for f in outcome.findings if f.check_id in chain}
    if expected is None:
        assert found == set()
    else:
        check_id, severity, _ = expected
        assert {(c, s) for c, s, _ in found} == {(check_id, severity)}
        assert all(expected[2] in problem for _, _, problem in found), found


# --- What the shell audit was asked for -------------------------------------------------------------------


def test_the_shell_audit_refuses_an_address_spelt_under_a_wildcard_dns_service(world_sandbox: Sandbox) -> None:
    result = sandbox_cli({**os.environ, **world_sandbox.env()}, "127.0.0.1.nip.io")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "audit: 127.0.0.1.nip.io is the address 127.0.0.1 spelt as a name under nip.io, not a domain of its own: "
        "enter the domain the app will launch on."
    )


def test_the_shell_audit_audits_the_host_it_was_given_with_its_domain(world_sandbox: Sandbox) -> None:
    result = sandbox_cli({**os.environ, **world_sandbox.env()}, "shop.dangling.test", "--json")
    payload = json.loads(result.stdout)
    assert payload["domain"] == "dangling.test"
    found = {(f["check_id"], f["subject"]) for f in payload["findings"]}
    assert ("dns.cname.dangling", "shop.dangling.test") in found
    assert result.returncode == 1


@pytest.mark.django_db
def test_runs_from_before_the_third_verdict_get_theirs_and_a_cut_short_go_becomes_could_not_check(
    tenant: Tenant,
) -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("audits.migrations.0004_audit_verdict")
    done, partial, stopped = (
        AuditRun.objects.create(domain=tenant.domain, state=state, go=go)
        for state, go in ((AuditRun.State.DONE, True), (AuditRun.State.PARTIAL, True), (AuditRun.State.DONE, False))
    )
    migration.verdicts_of_finished_runs(apps, None)
    found = {run.pk: (run.verdict, run.go) for run in AuditRun.objects.all()}
    assert found[done.pk] == ("go", True)
    assert found[partial.pk] == ("unchecked", False)
    assert found[stopped.pk] == ("no_go", False)


@pytest.mark.django_db
def test_the_checklist_does_not_call_clean_what_a_private_address_kept_the_audit_from_seeing(tenant: Tenant) -> None:
    run = AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.DONE, verdict="no_go")
    title = f"www.{tenant.domain.name} resolves to 10.0.0.5, a private address: the public cannot reach it"
    AuditFinding.objects.create(
        run=run, check_id="dns.host.refused", subject=f"www.{tenant.domain.name}", area="dns",
        severity="blocker", item="domain_setup", title=title, explanation="e", fix="f",
    )  # fmt: skip
    items = {i.item.value: i for i in sprint_checklist(tenant.sprint).items}
    assert items["domain_setup"].state == State.BLOCKED
    for unseen in ("ssl", "redirects", "caching", "cloudflare"):
        assert (items[unseen].state, items[unseen].reason) == (State.TODO, f"Not checked: {title}."), unseen
    # DNS answered: mail was seen and is clean, and what is left is a real send, not the private address
    assert items["email_authentication"].state == State.TODO
    assert "no real send has passed yet" in items["email_authentication"].reason
