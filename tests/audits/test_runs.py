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

from audits.lifecycle import audit_run_execute, reap_stale_runs
from audits.models import AuditFinding, AuditRun
from audits.runs import audit_client
from audits.status import audit_status
from audits.tasks import schedule_daily_audits
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
        domain=domain, host="app", path="/login", kind=Route.Kind.LOGIN, expected_statuses=[200], keyword="Sign in"
    )
    Route.objects.create(domain=domain, host="api", path="/health", kind=Route.Kind.API_HEALTH, expected_statuses=[200])
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
        return audit_run_execute(AuditRun.objects.create(domain=Domain.objects.get(pk=domain.pk)))

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


def _banner(http, client_code, **params: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The audit status block as polled, and the trigger it sends back."""
    response = http.get(reverse("audit_progress", args=[client_code]), params)
    return response.content.decode(), response.get("HX-Trigger", "")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "done", "total", "headline", "polls"),
    [
        (AuditRun.State.QUEUED, 0, 0, "Audit queued", True),
        (AuditRun.State.RUNNING, 5, 9, "Audit running: 5 of 9 checks done", True),
        (AuditRun.State.DONE, 9, 9, "No-go", False),
        (AuditRun.State.FAILED, 2, 9, "Audit failed", False),
    ],
)
def test_the_banner_says_what_the_audit_is_doing(
    tenant: Tenant, state: str, done: int, total: int, headline: str, polls: bool
) -> None:
    run = AuditRun.objects.create(
        domain=tenant.domain, state=state, checks_done=done, checks_total=total, reason="The worker stopped."
    )
    if state == AuditRun.State.DONE:
        run.findings.create(
            check_id="tls.expired",
            area="tls",
            severity="blocker",
            item="tls",
            title="Expired",
            explanation="-",
            fix="-",
        )
        AuditRun.objects.filter(pk=run.pk).update(go=False, counts={"blocker": 1}, finished_at=timezone.now())
    http = login(tenant.consultant)
    for url in (
        reverse("client_detail", args=[tenant.client.code]),
        reverse("client_risks", args=[tenant.client.code]),
        reverse("sprint_detail", args=[tenant.sprint.code]),
        reverse("audit_progress", args=[tenant.client.code]),
    ):
        page = http.get(url).content.decode()
        assert f"<strong>{headline}</strong>" in page, url
        assert ("Not audited yet" in page) is False, url
        assert ('hx-trigger="every 2s"' in page) is polls, url
    if state == AuditRun.State.FAILED:
        assert "The worker stopped. Nothing was checked to the end" in page


@pytest.mark.django_db
def test_the_banner_keeps_the_last_verdict_while_a_new_audit_runs(tenant: Tenant) -> None:
    AuditRun.objects.create(
        domain=tenant.domain, state=AuditRun.State.DONE, go=True, counts={}, finished_at=timezone.now()
    )
    AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.RUNNING, checks_done=1, checks_total=9)
    page, _ = _banner(login(tenant.consultant), tenant.client.code)
    assert "Audit running: 1 of 9 checks done" in page and "Until it ends, the last verdict stands: Go." in page


@pytest.mark.django_db
def test_the_polling_stops_with_the_verdict_once_the_run_ends(tenant: Tenant) -> None:
    run = AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.RUNNING, checks_total=12, checks_done=3)
    http = login(tenant.consultant)
    page, trigger = _banner(http, tenant.client.code, watching="1")
    assert 'hx-trigger="every 2s"' in page and 'value="3"' in page and trigger == ""
    AuditRun.objects.filter(pk=run.pk).update(
        state=AuditRun.State.DONE, go=True, counts={}, finished_at=timezone.now(), checks_done=12
    )
    page, trigger = _banner(http, tenant.client.code, watching="1")
    assert "hx-trigger" not in page.split("<strong>")[0]  # the status block polls no more
    assert "<strong>Go</strong>" in page and "Audit running" not in page
    assert trigger == "audit-finished"  # the findings on the page refresh themselves, no reload
    client_page = http.get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert 'hx-trigger="audit-finished from:body" hx-select="#risks"' in client_page


@pytest.mark.django_db
def test_the_founder_sees_the_audit_under_way_without_the_banner(tenant: Tenant) -> None:
    AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.RUNNING, checks_total=9, checks_done=4)
    http = login(tenant.founder)
    page = http.get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert "4 of 9 checks done" in page and "audit under way" in page and "not audited yet" not in page
    assert "banner=0" in page
    polled, _ = _banner(http, tenant.client.code, banner="0")
    assert "4 of 9 checks done" in polled and "verdict" not in polled


@pytest.mark.django_db
def test_the_dashboard_says_a_first_audit_is_running(tenant: Tenant) -> None:
    AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.QUEUED)
    page = login(tenant.consultant).get(reverse("dashboard")).content.decode()
    assert "Audit running" in page and "Not audited" not in page


@pytest.mark.django_db
def test_adding_a_domain_through_the_form_enqueues_its_first_audit_once(
    tenant: Tenant,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    http = login(tenant.consultant)
    data = {"name": "https://www.new-shop.test/", "canonical_host": "www", "hosting_provider": "other"}
    with django_capture_on_commit_callbacks() as callbacks:
        response = http.post(reverse("domain_new", args=[tenant.client.code]), data | {"deploy_method": "git_push"})
    domain = Domain.objects.get(client=tenant.client, name="new-shop.test")
    assert response["Location"] == reverse("route_new", args=[domain.code])
    runs = AuditRun.objects.filter(domain=domain)
    assert [r.state for r in runs] == [AuditRun.State.QUEUED]
    assert len(callbacks) == 1  # the enqueue, once the domain is committed
    assert AuditRun.objects.count() == 1  # no other domain of the client was audited again
    invalid = http.post(reverse("domain_new", args=[tenant.client.code]), data | {"deploy_method": "git_push"})
    assert "already has that domain" in invalid.content.decode() and AuditRun.objects.count() == 1


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_new_domain_is_audited_by_the_worker(sandbox_env: Sandbox, worker) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    login(tenant.consultant).post(
        reverse("domain_new", args=[tenant.client.code]),
        {"name": HEALTHY, "canonical_host": "www", "hosting_provider": "other", "deploy_method": "git_push"},
    )
    domain = Domain.objects.get(client=tenant.client, name=HEALTHY)
    assert wait_until(lambda: AuditRun.objects.filter(domain=domain).finished().exists(), timeout=90)
    assert AuditRun.objects.filter(domain=domain).count() == 1


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


@pytest.mark.django_db
def test_the_audit_status_adds_up_every_domain_under_way(tenant: Tenant) -> None:
    second = DomainFactory(client=tenant.client)
    third = DomainFactory(client=tenant.client)
    AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.RUNNING, checks_done=5, checks_total=9)
    AuditRun.objects.create(domain=second, state=AuditRun.State.RUNNING, checks_done=1, checks_total=9)
    AuditRun.objects.create(domain=third, state=AuditRun.State.DONE, go=True, finished_at=timezone.now())
    AuditRun.objects.create(domain=third, state=AuditRun.State.QUEUED)  # the newest run is the one that counts
    status = audit_status(tenant.client)
    assert status.headline == "Audit running: 6 of 18 checks done; 1 more domain waiting"
    assert [r.domain for r in status.queued] == [third]
    assert audit_status(make_tenant().client).headline == ""


@pytest.mark.django_db
@pytest.mark.parametrize("domains", [1, 6])
def test_the_risk_list_costs_the_same_queries_whatever_the_domains_and_their_history(
    tenant: Tenant, domains: int, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for n in range(domains):
        domain = tenant.domain if n == 0 else DomainFactory(client=tenant.client)
        for days in range(3):  # older runs: not on the list
            created = timezone.now() - timedelta(days=days)
            run = AuditRun.objects.create(
                domain=domain, state="done", verdict="no_go", go=False, created=created, counts={"blocker": 1}
            )
            AuditFinding.objects.create(
                run=run,
                check_id="tls.expired",
                area="tls",
                severity="blocker",
                item="ssl",
                title=f"Expired on {n}",
                explanation="e",
                fix="f",
            )
    http = login(tenant.consultant)
    with django_assert_max_num_queries(11):  # the latest real send: one more; the journeys' findings one
        page = http.get(reverse("client_risks", args=[tenant.client.code])).content.decode()
    assert all(f"Expired on {n}" in page for n in range(domains))
