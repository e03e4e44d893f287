"""The sprint checklist: items ticked by a clean audit, un-ticked by an open blocker, by the monitors and
the published pack, and by the consultant's hand otherwise; in a fixed number of queries."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from audits.models import AuditFinding, AuditRun, RepoScan
from audits.secrets.lifecycle import repo_scan_finish
from audits.secrets.repo import scan_upload
from handover.checklist import Stage, State, sprint_checklist
from handover.models import ChecklistTick
from handover.publish import pack_publish
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.saas_app import ACCOUNT_EMAIL, ACCOUNT_PASSWORD, APEX_OF, Flaw
from monitoring.journey_steps import StepSpec
from monitoring.journey_templates import sign_in
from monitoring.journeys import create_journey, run_journey_now, set_secret
from monitoring.models import AlertChannel, Journey, Monitor
from monitoring.scheduler import sync_monitors
from monitoring.selectors import sign_in_facts
from tests.audits.repos import zip_bytes
from tests.conftest import Tenant, login
from tests.factories import DomainFactory, RouteFactory

pytestmark = pytest.mark.django_db


def _run(tenant: Tenant, *findings: tuple[str, str, str]) -> AuditRun:
    """A finished run holding the given (item, severity, title) findings, as the engine records them."""
    run = AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.DONE, go=True)
    AuditFinding.objects.bulk_create(
        AuditFinding(
            run=run,
            check_id=f"x.{i}",
            subject=str(i),
            area="dns",
            severity=sev,
            item=item,
            title=title,
            explanation="",
            fix="",
            rank=i,
        )
        for i, (item, sev, title) in enumerate(findings)
    )
    return run


def _states(tenant: Tenant) -> dict[str, tuple[State, str]]:
    return {i.item.value: (i.state, i.source) for i in sprint_checklist(tenant.sprint).items}


def test_it_groups_the_ten_items_by_the_seven_stages(tenant: Tenant) -> None:
    checklist = sprint_checklist(tenant.sprint)
    assert [s.name for s in checklist.stages] == [
        "Quick audit",
        "Stabilise the edge",
        "Harden config and secrets",
        "Deploy",
        "Protect and observe",
        "Verify customer paths",
        "Handover",
    ]
    assert len(checklist.items) == 10 and len({i.item for i in checklist.items}) == 10
    assert all(i.state == State.TODO for i in checklist.items if i.item != "uptime_monitoring")


def test_a_clean_area_ticks_its_item_and_an_open_blocker_unticks_it(tenant: Tenant) -> None:
    _run(
        tenant,
        ("ssl", "blocker", "Certificate expired on www"),
        ("redirects", "medium", "Two-hop redirect"),
        ("email_authentication", "info", "MTA-STS not set up"),
    )
    states = _states(tenant)
    assert states["email_authentication"] == (State.TODO, "")  # clean records; done only after a real send passes
    assert states["domain_setup"] == (State.DONE, "audit")
    assert states["ssl"] == (State.BLOCKED, "audit")
    assert states["redirects"] == (State.ATTENTION, "audit")
    assert states["environment_variables"] == (State.TODO, "")
    ssl = next(i for i in sprint_checklist(tenant.sprint).items if i.item == "ssl")
    assert ssl.reason == "1 blocker open in the latest audit." and ssl.findings[0].title == "Certificate expired on www"


def _secrets(tenant: Tenant):  # type: ignore[no-untyped-def]
    return next(i for i in sprint_checklist(tenant.sprint).items if i.item == "secrets")


def test_secrets_handling_waits_for_a_repository_scan_and_says_how_to_make_one(tenant: Tenant) -> None:
    assert "No audit of the site has finished yet" in _secrets(tenant).reason
    assert "the repository has not been scanned yet" in _secrets(tenant).reason.lower()
    _run(tenant, ("ssl", "low", "Short HSTS"))
    secrets = _secrets(tenant)
    assert (secrets.state, secrets.source) == (State.TODO, "")  # clean public scripts are not a clean repository
    assert secrets.reason == (
        "Nothing leaks from what the site serves in the latest audit, but the repository has not been scanned yet: "
        "upload it (a zip, a tar.gz or a git bundle) on the client's repository scans page, or send it from CI with "
        "the snippet on that page."
    )
    assert "audit" not in secrets.reason.replace("latest audit", "")
    RepoScan.objects.create(client=tenant.client, state=RepoScan.State.DONE, filename="app.zip", kind="zip")
    secrets = _secrets(tenant)
    assert (secrets.state, secrets.source) == (State.DONE, "audit and repository scan")
    assert secrets.reason.startswith("The latest repository scan") and "nothing leaks" in secrets.reason


def test_a_scan_without_a_finished_audit_says_the_site_is_not_checked(tenant: Tenant) -> None:
    RepoScan.objects.create(client=tenant.client, state=RepoScan.State.DONE, filename="app.zip", kind="zip")
    secrets = _secrets(tenant)
    assert secrets.state == State.TODO
    assert secrets.reason == (
        "The latest repository scan found nothing to work down, but no audit of the site has finished yet, so "
        "nothing says its scripts hold no key."
    )


def test_a_key_committed_to_the_repository_unticks_secrets_handling(tenant: Tenant) -> None:
    from audits.models import RepoFinding

    _run(tenant, ("ssl", "low", "Short HSTS"))
    scan = RepoScan.objects.create(client=tenant.client, state=RepoScan.State.DONE, filename="app.zip", kind="zip")
    RepoFinding.objects.create(
        scan=scan,
        check_id="secrets.repo.key",
        subject="config/settings.py",
        area="secrets",
        severity="blocker",
        item="secrets",
        title="A Stripe secret key is committed to the repository",
        explanation="",
        fix="",
    )
    ChecklistTick.objects.create(sprint=tenant.sprint, item="secrets", done=True, ticked_by=tenant.consultant)
    secrets = _secrets(tenant)
    assert (secrets.state, secrets.source) == (State.BLOCKED, "repository scan")
    assert secrets.reason == "Open: 1 blocker in the latest repository scan."
    assert secrets.findings[0].title == "A Stripe secret key is committed to the repository"
    assert secrets.findings[0].url == reverse("repo_scans", args=[tenant.client.code])
    RepoFinding.objects.create(
        scan=scan,
        check_id="secrets.log.token",
        subject="repo#app/api.py#token",
        area="secrets",
        severity="high",
        item="secrets",
        title="app/api.py logs a token: token",
        explanation="",
        fix="",
    )
    _run(tenant, ("secrets", "blocker", "A Stripe secret key in a public script"))
    secrets = _secrets(tenant)
    assert (secrets.state, secrets.source) == (State.BLOCKED, "repository scan and audit")
    assert secrets.reason == (
        "Open: 1 blocker in the latest repository scan; 1 blocker in what the site serves, in the latest audit. "
        "Then to work down (high or medium): 1 finding in the latest repository scan (a logging call that writes "
        "secrets or personal data)."
    )


def test_logging_calls_that_write_secrets_keep_secrets_handling_open(tenant: Tenant, tmp_path: Path) -> None:
    _run(tenant)
    scan = RepoScan.objects.create(client=tenant.client, filename="app.zip", kind="zip")
    upload = tmp_path / "app.zip"
    source = b"def login(request):\n    logger.info(request.POST)\n    logger.info(user.email)\n"
    files = {"shop-main/app/views.py": source, "shop-main/.env.example": b"", "shop-main/app/s.py": b"DEBUG = 1\n"}
    upload.write_bytes(zip_bytes(files))
    report = scan_upload(upload)
    repo_scan_finish(scan, report.findings, report.stats)
    secrets = _secrets(tenant)
    assert (secrets.state, secrets.source) == (State.ATTENTION, "repository scan")
    assert secrets.reason == (
        "To work down (high or medium): 2 findings in the latest repository scan (all of them logging calls that "
        "write secrets or personal data)."
    )
    assert sorted(f.title for f in secrets.findings) == [
        "app/views.py logs a whole request body: request.POST",
        "app/views.py logs an email address: user.email",
    ]


def test_a_manual_tick_never_hides_an_open_blocker(tenant: Tenant) -> None:
    _run(tenant, ("ssl", "blocker", "Certificate expired"))
    ChecklistTick.objects.create(sprint=tenant.sprint, item="ssl", done=True, ticked_by=tenant.consultant)
    ChecklistTick.objects.create(
        sprint=tenant.sprint, item="environment_variables", done=True, notes="Checked .env.example"
    )
    states = _states(tenant)
    assert states["ssl"][0] == State.BLOCKED
    assert states["environment_variables"] == (State.DONE, "consultant")


def test_uptime_is_ticked_when_every_route_is_watched_up_and_alerts_reach_someone(tenant: Tenant) -> None:
    sync_monitors()
    assert _states(tenant)["uptime_monitoring"][0] == State.ATTENTION
    Monitor.objects.update(state=Monitor.State.UP)
    item = next(i for i in sprint_checklist(tenant.sprint).items if i.item == "uptime_monitoring")
    assert item.state == State.ATTENTION and "no alert channel" in item.reason.lower()
    AlertChannel.objects.create(client=tenant.client, kind="email", name="Founders")
    assert _states(tenant)["uptime_monitoring"] == (State.DONE, "monitors")
    RouteFactory(domain=tenant.domain)  # a new route without a monitor
    item = next(i for i in sprint_checklist(tenant.sprint).items if i.item == "uptime_monitoring")
    assert item.state == State.ATTENTION and "1 route of 2 not monitored" in item.reason


def test_publishing_the_pack_ticks_handover(tenant: Tenant) -> None:
    pack_publish(client=tenant.client, user=tenant.consultant)
    assert _states(tenant)["handover"] == (State.DONE, "pack")


def test_the_consultant_ticks_an_item_with_htmx_and_notes(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    url = reverse("checklist_tick", args=[tenant.sprint.code])
    response = http.post(
        url, {"item": "environment_variables", "done": "on", "notes": "All keys in Vercel"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="checklist"' in page and "All keys in Vercel" in page and "1 of 10 done" in page
    tick = ChecklistTick.objects.get(sprint=tenant.sprint, item="environment_variables")
    assert tick.done and tick.ticked_by == tenant.consultant
    assert http.post(url, {"item": "environment_variables"}).status_code == 302  # unticked, without HTMX
    tick.refresh_from_db()
    assert not tick.done


def test_a_bad_item_gets_a_clear_answer(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    url = reverse("checklist_tick", args=[tenant.sprint.code])
    response = http.post(url, {"item": "nonsense"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Choose one of the ten Launch Ready items" in response.content.decode()
    response = http.post(url, {"item": "nonsense"}, follow=True)
    assert "Choose one of the ten Launch Ready items" in response.content.decode()
    assert not ChecklistTick.objects.exists()


def test_founders_read_the_checklist_but_cannot_tick(tenant: Tenant) -> None:
    http = login(tenant.founder)
    page = http.get(reverse("sprint_detail", args=[tenant.sprint.code])).content.decode()
    assert "Launch Ready checklist" in page and "Tick it by hand" not in page
    response = http.post(reverse("checklist_tick", args=[tenant.sprint.code]), {"item": "handover", "done": "on"})
    assert response.status_code == 403 and not ChecklistTick.objects.exists()


def test_the_sprint_page_queries_do_not_grow_with_findings_or_ticks(
    tenant: Tenant, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    http = login(tenant.consultant)
    url = reverse("sprint_detail", args=[tenant.sprint.code])
    _run(tenant, ("ssl", "high", "One"))
    http.get(url)
    with django_assert_max_num_queries(30) as small:
        http.get(url)
    _run(
        tenant,
        *[
            (item, sev, f"Finding {n}")
            for n in range(40)
            for item, sev in [("ssl", "high"), ("redirects", "medium"), ("caching", "blocker"), ("secrets", "low")]
        ],
    )
    for item in ("environment_variables", "handover", "cloudflare"):
        ChecklistTick.objects.create(sprint=tenant.sprint, item=item, done=True, ticked_by=tenant.consultant)
    for _ in range(5):
        RouteFactory(domain=tenant.domain)
    sync_monitors()
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = http.get(url)
    assert "Finding 39" in response.content.decode() or "blocker" in response.content.decode()


def _cdn(run: AuditRun, host: str, cdn: str) -> None:
    """The fact the edge check records when it sees a CDN answer for the site."""
    AuditFinding.objects.create(
        run=run,
        check_id="edge.cdn",
        subject=host,
        area="edge",
        severity="info",
        item="cloudflare",
        title=f"{host} is served through {cdn}",
        explanation="",
        fix="",
        evidence={"cdn": cdn},
    )


def test_cloudflare_is_ticked_only_when_the_audit_saw_cloudflare(tenant: Tenant) -> None:
    run = _run(tenant)  # no finding at all: absence is not evidence
    cloudflare = next(i for i in sprint_checklist(tenant.sprint).items if i.item == "cloudflare")
    assert cloudflare.state == State.TODO and "did not see Cloudflare" in cloudflare.reason
    _cdn(run, "www.client.example", "Vercel")
    cloudflare = next(i for i in sprint_checklist(tenant.sprint).items if i.item == "cloudflare")
    assert cloudflare.state == State.TODO and cloudflare.reason.startswith("Served through Vercel, not Cloudflare")
    AuditFinding.objects.filter(check_id="edge.cdn").update(evidence={"cdn": "Cloudflare"})
    cloudflare = next(i for i in sprint_checklist(tenant.sprint).items if i.item == "cloudflare")
    assert (cloudflare.state, cloudflare.source) == (State.DONE, "audit")
    assert cloudflare.reason == "The latest audit saw Cloudflare answer for www.client.example."


def test_an_audit_that_did_not_finish_every_check_ticks_nothing(tenant: Tenant) -> None:
    run = _run(tenant)
    _cdn(run, "www.client.example", "Cloudflare")
    AuditRun.objects.filter(pk=run.pk).update(state=AuditRun.State.PARTIAL)
    items = {i.item.value: i for i in sprint_checklist(tenant.sprint).items}
    for item in ("domain_setup", "ssl", "redirects", "caching", "email_authentication", "cloudflare"):
        assert items[item].state == State.TODO, item
        assert items[item].reason == "The latest audit did not finish every check, so it cannot show this is in order."


def test_notes_too_long_say_so_instead_of_blaming_the_item(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    url = reverse("checklist_tick", args=[tenant.sprint.code])
    response = http.post(url, {"item": "cloudflare", "done": "on", "notes": "x" * 3100}, follow=True)
    page = response.content.decode()
    assert "The notes were not saved" in page and "Choose one of the ten" not in page


def _sign_in_journey(tenant: Tenant, flaw: Flaw) -> Journey:
    apex = APEX_OF[flaw]
    DomainFactory(client=tenant.client, name=apex)
    journey = create_journey(
        tenant.client, "Sign in", sign_in(f"https://app.{apex}/login", f"https://app.{apex}/dashboard")
    )
    for name, value in (("email", ACCOUNT_EMAIL), ("password", ACCOUNT_PASSWORD)):
        set_secret(journey, name, value)
    return journey


def _customer_paths(tenant: Tenant) -> Stage:
    (stage,) = [s for s in sprint_checklist(tenant.sprint).stages if s.name == "Verify customer paths"]
    assert stage.path is not None
    return stage


def test_customer_paths_wait_for_a_sign_in_journey_that_passed(sandbox_env: Sandbox, tenant: Tenant) -> None:
    # Email authentication ticked by hand: the stage waits for the sign-in journey all the same.
    ChecklistTick.objects.create(
        sprint=tenant.sprint, item="email_authentication", done=True, ticked_by=tenant.consultant
    )
    stage = _customer_paths(tenant)
    assert not stage.done and stage.path is not None
    assert (
        stage.path.reason
        == "No sign-in journey yet: add one on the client's journeys page (sign in, open the dashboard)."
    )
    journey = _sign_in_journey(tenant, Flaw.NONE)
    stage = _customer_paths(tenant)
    assert not stage.done and stage.path is not None
    assert stage.path.reason == "The sign-in journey has not run yet: run it from the client's journeys page."
    assert run_journey_now(journey).ok
    stage = _customer_paths(tenant)
    assert stage.path is not None and stage.path.done
    assert stage.path.reason.startswith("“Sign in” passed on its latest run")
    assert stage.items[0].done == stage.done  # with the sign-in passed, the email item decides the stage
    page = login(tenant.consultant).get(reverse("sprint_detail", args=[tenant.sprint.code])).content.decode()
    assert "Sign-in journey" in page and "passed on its latest run" in page


def test_a_failed_sign_in_names_the_step_that_failed(sandbox_env: Sandbox, tenant: Tenant) -> None:
    ChecklistTick.objects.create(
        sprint=tenant.sprint, item="email_authentication", done=True, ticked_by=tenant.consultant
    )
    journey = _sign_in_journey(tenant, Flaw.DASHBOARD_500)
    assert not run_journey_now(journey).ok
    stage = _customer_paths(tenant)
    assert not stage.done and stage.path is not None
    assert "failed at step “Sign in”: “Sign in” answered 500 (Internal Server Error)" in stage.path.reason
    assert ACCOUNT_PASSWORD not in stage.path.reason


def test_a_journey_that_signs_in_nowhere_is_not_a_sign_in_journey(sandbox_env: Sandbox, tenant: Tenant) -> None:
    DomainFactory(client=tenant.client, name="saas-app.test")
    create_journey(tenant.client, "Home", [StepSpec(name="Open the home page", url="https://app.saas-app.test/")])
    assert sign_in_facts(tenant.client.id).journeys == 0
    stage = _customer_paths(tenant)
    assert stage.path is not None and stage.path.reason.startswith("No sign-in journey yet")
