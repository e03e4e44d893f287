"""Audit runs: queued, run by a real worker against the sandbox, diffed against the last run, reaped if
their worker dies; the risk list, its filters, the JSON export and the shell command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audits.models import AuditFinding, AuditRun
from audits.risk import reap_stale_runs
from audits.runs import audit_client
from audits.tasks import execute
from launchready.models import Domain, Route
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import HEALTHY
from tests.conftest import ROOT, Tenant, login, make_tenant, wait_until
from tests.factories import DomainFactory

CHANGE = AuditFinding.Change


def _sandbox_domain(tenant: Tenant, apex: str) -> Domain:
    domain = DomainFactory(
        client=tenant.client, name=apex, hosts=["app", "api"], mail_providers=["google"], dkim_selectors=["google"]
    )
    Route.objects.create(
        domain=domain, host="app", path="/login", kind="login", expected_statuses=[200], keyword="Sign in"
    )
    Route.objects.create(domain=domain, host="api", path="/health", kind="api_health", expected_statuses=[200])
    return domain


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_worker_audits_every_domain_of_a_client(sandbox_env: Sandbox, worker) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    tenant.domain.delete()
    healthy = _sandbox_domain(tenant, HEALTHY)
    broken = _sandbox_domain(tenant, "login-500.test")
    with transaction.atomic():
        runs = audit_client(client=tenant.client)
    assert {r.domain_id for r in runs} == {healthy.id, broken.id}
    assert len({r.group for r in runs}) == 1
    wait_until(lambda: not AuditRun.objects.active().exists(), timeout=60)
    done = {r.domain.name: r for r in AuditRun.objects.select_related("domain")}
    assert done[HEALTHY].state == AuditRun.State.DONE and done[HEALTHY].go is True
    assert done["login-500.test"].go is False
    blocker = done["login-500.test"].findings.get(check_id="route.unexpected_status")
    assert blocker.severity == "blocker" and blocker.change == CHANGE.NEW
    assert any(r["type"] == "MX" for r in done[HEALTHY].inventory)
    assert done[HEALTHY].checks_done == done[HEALTHY].checks_total > 5


@pytest.mark.django_db(transaction=True)
def test_each_finding_knows_its_change_since_the_last_run(sandbox_env: Sandbox) -> None:
    tenant = make_tenant()
    domain = _sandbox_domain(tenant, HEALTHY)

    def audit(hosts: list[str]) -> AuditRun:
        Domain.objects.filter(pk=domain.pk).update(hosts=hosts)
        return execute(AuditRun.objects.create(domain=Domain.objects.get(pk=domain.pk)))

    def change_of(run: AuditRun) -> str:
        return run.findings.get(check_id="dns.host.missing", subject=f"shop.{HEALTHY}").change

    audit(["app", "api"])
    assert change_of(audit(["app", "api", "shop"])) == CHANGE.NEW
    assert change_of(audit(["app", "api", "shop"])) == CHANGE.STILL_OPEN
    assert change_of(audit(["app", "api"])) == CHANGE.FIXED
    assert change_of(audit(["app", "api", "shop"])) == CHANGE.REGRESSED


@pytest.mark.django_db
def test_a_run_whose_worker_stopped_never_stays_running(tenant: Tenant) -> None:
    old = timezone.now() - timedelta(minutes=30)
    silent = AuditRun.objects.create(
        domain=tenant.domain, state=AuditRun.State.RUNNING, heartbeat_at=old, checks_total=12, checks_done=4
    )
    halfway = AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.RUNNING, heartbeat_at=old)
    AuditFinding.objects.create(
        run=halfway,
        check_id="tls.expired",
        area="tls",
        severity="blocker",
        item="ssl",
        title="t",
        explanation="e",
        fix="f",
    )
    fresh = AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.RUNNING, heartbeat_at=timezone.now())
    assert reap_stale_runs() == 2
    silent.refresh_from_db(), halfway.refresh_from_db(), fresh.refresh_from_db()
    assert silent.state == AuditRun.State.FAILED and "after 4 of 12 checks" in silent.reason
    assert halfway.state == AuditRun.State.PARTIAL
    assert fresh.state == AuditRun.State.RUNNING


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_leaves_a_run_that_is_reaped_with_its_reason(sandbox_env: Sandbox, worker) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    tenant.domain.delete()
    domain = _sandbox_domain(tenant, "slow-login.test")
    with transaction.atomic():
        (run,) = audit_client(client=tenant.client)
    wait_until(lambda: AuditRun.objects.get(pk=run.pk).state == AuditRun.State.RUNNING, timeout=30)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    reaped = reap_stale_runs(now=timezone.now() + timedelta(minutes=10))
    run.refresh_from_db()
    assert reaped == 1
    assert run.state in (AuditRun.State.FAILED, AuditRun.State.PARTIAL)
    assert "worker stopped" in run.reason
    assert run.domain_id == domain.id


def _finished_run(tenant: Tenant) -> AuditRun:
    run = AuditRun.objects.create(
        domain=tenant.domain,
        state=AuditRun.State.DONE,
        go=False,
        finished_at=timezone.now(),
        inventory=[{"name": "x.example", "type": "A", "value": "192.0.2.1", "ttl": 300}],
    )
    for check_id, area, severity, rank in [
        ("tls.expired", "tls", "blocker", 1),
        ("headers.csp_missing", "headers", "medium", 20000),
        ("email.dmarc.missing", "email", "high", 10000),
    ]:
        AuditFinding.objects.create(
            run=run,
            check_id=check_id,
            area=area,
            severity=severity,
            item="ssl",
            rank=rank,
            title=f"Title of {check_id}",
            explanation="Why it matters",
            fix="v=DMARC1; p=none",
            evidence={"seen": "value"},
        )
    return run


@pytest.mark.django_db
def test_the_risk_list_ranks_filters_and_exports(tenant: Tenant) -> None:
    _finished_run(tenant)
    http = login(tenant.consultant)
    page = http.get(reverse("client_risks", args=[tenant.client.code])).content.decode()
    assert "No-go" in page
    assert (
        page.index("Title of tls.expired")
        < page.index("Title of email.dmarc.missing")
        < page.index("Title of headers.csp_missing")
    )
    assert 'data-copy="v=DMARC1; p=none"' in page
    filtered = http.get(reverse("client_risks", args=[tenant.client.code]), {"area": "email"}).content.decode()
    assert "Title of email.dmarc.missing" in filtered and "Title of tls.expired" not in filtered
    by_severity = http.get(reverse("client_risks", args=[tenant.client.code]), {"severity": "medium"}).content.decode()
    assert "Title of headers.csp_missing" in by_severity and "Title of tls.expired" not in by_severity
    ignored = http.get(reverse("client_risks", args=[tenant.client.code]), {"area": "<script>"})
    assert ignored.status_code == 200
    export = json.loads(http.get(reverse("client_risks_json", args=[tenant.client.code])).content)
    assert export["go"] is False
    assert [f["check_id"] for f in export["findings"]] == ["tls.expired", "email.dmarc.missing", "headers.csp_missing"]
    client_page = http.get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert "No-go" in client_page and "Title of tls.expired" in client_page


@pytest.mark.django_db
def test_founders_read_the_risks_but_cannot_start_audits(tenant: Tenant) -> None:
    _finished_run(tenant)
    http = login(tenant.founder)
    assert http.get(reverse("client_risks", args=[tenant.client.code])).status_code == 200
    assert http.post(reverse("audit_start", args=[tenant.client.code])).status_code == 403
    assert not AuditRun.objects.filter(state=AuditRun.State.QUEUED).exists()


@pytest.mark.django_db
def test_starting_an_audit_twice_queues_one_run_per_domain(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    http.post(reverse("audit_start", args=[tenant.client.code]))
    http.post(reverse("audit_start", args=[tenant.client.code]))
    assert AuditRun.objects.filter(domain=tenant.domain).count() == 1


@pytest.mark.django_db
def test_progress_refreshes_until_the_runs_end(tenant: Tenant) -> None:
    run = AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.RUNNING, checks_total=12, checks_done=3)
    http = login(tenant.consultant)
    url = reverse("audit_progress", args=[tenant.client.code])
    running = http.get(url)
    assert b'hx-trigger="every 2s"' in running.content and b'value="3"' in running.content
    AuditRun.objects.filter(pk=run.pk).update(state=AuditRun.State.DONE)
    assert http.get(url + "?watching=1")["HX-Refresh"] == "true"


def _audit_cli(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "audit", *args],
        cwd=ROOT,
        env={**os.environ, **sandbox.env()},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_shell_audit_says_go_no_go_and_could_not_run(world_sandbox: Sandbox) -> None:
    healthy = _audit_cli(world_sandbox, HEALTHY)
    assert healthy.returncode == 0, healthy.stderr
    assert "GO: no launch blocker" in healthy.stdout
    broken = _audit_cli(world_sandbox, "https://WWW.Expired-Cert.test/pricing", "--json")
    assert broken.returncode == 1
    payload = json.loads(broken.stdout)
    assert payload["go"] is False and payload["domain"] == "expired-cert.test"
    assert {"check_id", "severity", "title", "explanation", "fix", "evidence"} <= set(payload["findings"][0])
    assert any(f["check_id"] == "tls.expired" for f in payload["findings"])
    bad = _audit_cli(world_sandbox, "not a domain")
    assert bad.returncode == 2 and "cannot contain spaces" in bad.stderr


@pytest.mark.django_db
def test_the_daily_re_audit_queues_domains_not_audited_for_a_day(tenant: Tenant) -> None:
    from audits.tasks import schedule_daily_audits

    quiet = DomainFactory(client=tenant.client, daily_audit=False)
    recent = DomainFactory(client=tenant.client)
    AuditRun.objects.create(domain=recent, state=AuditRun.State.DONE)
    stale = DomainFactory(client=tenant.client)
    old = AuditRun.objects.create(domain=stale, state=AuditRun.State.DONE)
    AuditRun.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(hours=25))
    assert schedule_daily_audits() == 2  # the tenant's own never-audited domain and the stale one
    queued = set(
        AuditRun.objects.filter(state=AuditRun.State.QUEUED, scheduled=True).values_list("domain_id", flat=True)
    )
    assert queued == {tenant.domain.id, stale.id}
    assert quiet.id not in queued and recent.id not in queued
