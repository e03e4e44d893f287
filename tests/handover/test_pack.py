"""The handover pack built from a real audit of a sandbox domain and real monitor rollups: its content,
its Markdown and PDF exports, and published versions that never change afterwards."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audits.lifecycle import audit_run_execute as execute
from audits.models import AuditRun
from handover.models import AccessEntry, PackVersion
from handover.pack import build_pack
from handover.publish import pack_publish
from launchready.models import Contact, Domain, Route
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.scenarios import HEALTHY
from monitoring.models import AlertChannel, Monitor, Probe
from monitoring.rollup import day_start, rollup_day, rollup_hour, window
from monitoring.scheduler import sync_monitors, tick
from tests.conftest import Tenant, login

pytestmark = pytest.mark.django_db(transaction=True)


def _client_on(tenant: Tenant, apex: str, hosting: str = Domain.HostingProvider.HEROKU) -> Domain:
    tenant.domain.delete()
    domain = Domain.objects.create(
        client=tenant.client,
        name=apex,
        hosts=["app", "api"],
        mail_providers=["google"],
        dkim_selectors=["google"],
        hosting_provider=hosting,
        deploy_method=Domain.DeployMethod.GIT_PUSH,
    )
    Route.objects.create(domain=domain, host="", path="/", kind="homepage", expected_statuses=[200])
    Route.objects.create(domain=domain, host="app", path="/login", kind="login", expected_statuses=[200])
    Route.objects.create(domain=domain, host="api", path="/health", kind="api_health", expected_statuses=[200])
    return domain


def _history(monitor: Monitor, latency: float, failures: int) -> None:
    """Two earlier days of one-minute probes, rolled up hour by hour and day by day by the real code."""
    today = day_start(timezone.now())
    for days_ago in (3, 2):
        day = today - timedelta(days=days_ago)
        for hour in range(2):
            start = day + timedelta(hours=hour)
            Probe.objects.bulk_create(
                Probe(monitor=monitor, at=start + timedelta(minutes=i), ok=i >= failures, latency_ms=latency)
                for i in range(60)
            )
            rollup_hour(start)
        rollup_day(day)


@pytest.fixture
def audited(tenant: Tenant, sandbox_env: Sandbox) -> Tenant:
    domain = _client_on(tenant, HEALTHY)
    execute(AuditRun.objects.create(domain=domain))
    sync_monitors()
    assert tick() == 3  # real probes of the three routes against the sandbox
    rollup_hour(timezone.now())
    monitors = {m.route.kind: m for m in Monitor.objects.select_related("route")}
    _history(monitors["homepage"], 90.0, 0)
    _history(monitors["login"], 700.0, 3)
    AlertChannel.objects.create(client=tenant.client, kind="email", name="Founders")
    Contact.objects.create(client=tenant.client, name="Amelia Hart", email="amelia@example.com", is_primary=True)
    AccessEntry.objects.create(
        client=tenant.client, kind="registrar", provider="Namecheap", owner="Amelia", login_location="1Password, Ops"
    )
    return tenant


def test_it_builds_the_pack_from_the_audit_and_the_rollups(audited: Tenant) -> None:
    pack = build_pack(audited.client)
    now = timezone.now()
    monitors = list(Monitor.objects.order_by("url"))
    windows = [window(m, now - timedelta(days=30), now) for m in monitors]
    probes = sum(w.probes for w in windows)
    failures = sum(w.failures for w in windows)
    assert probes == 3 + 2 * 240 and failures == 12
    assert pack["status"]["uptime"] == pytest.approx(100 * (probes - failures) / probes)
    assert pack["status"]["p95"] == 750.0  # the 700 ms bucket's upper bound, over every route
    by_url = {r["url"]: r for r in pack["monitoring"]["routes"]}
    login_window = window(Monitor.objects.get(route__kind="login"), now - timedelta(days=30), now)
    login = by_url[f"https://app.{HEALTHY}/login"]
    assert login["uptime"] == pytest.approx(login_window.uptime) and login["p95"] == login_window.percentile(0.95)
    assert pack["status"]["go"] is True and pack["status"]["verdict"] == "Go"
    records = pack["dns"][0]["records"]
    assert any(r["type"] == "MX" and "Delivers email" in r["purpose"] for r in records)
    assert all(r["ttl_note"] for r in records)
    spf = next(e for e in pack["email"] if e["mechanism"] == "SPF")
    assert spf["live"] and spf["record"].startswith("v=spf1") and spf["status"].startswith("Confirmed live on")
    assert next(e for e in pack["email"] if e["mechanism"] == "DMARC")["live"]
    assert pack["domains"][0]["canonical"] == f"www.{HEALTHY}"
    assert {h["purpose"] for h in pack["domains"][0]["hosts"]} >= {"sign-in", "the API"}
    registrar = next(a for a in pack["access"] if a["kind"] == "registrar")
    assert (registrar["owner"], registrar["login_location"]) == ("Amelia", "1Password, Ops")
    plan = pack["deploys"][0]
    assert plan["hosting"] == "Heroku"
    assert any("heroku rollback" in s["command"] for s in plan["rollback"])
    assert pack["contacts"]["client"][0]["name"] == "Amelia Hart"
    assert any("status.heroku.com" in step for step in pack["incident"])
    assert any("Founders" in step for step in pack["monitoring"]["steps"])


def test_it_lists_what_remains_risky(tenant: Tenant, sandbox_env: Sandbox) -> None:
    domain = _client_on(tenant, "studiokit.test", Domain.HostingProvider.RENDER)
    execute(AuditRun.objects.create(domain=domain))
    pack = build_pack(tenant.client)
    assert pack["status"]["verdict"] == "No-go" and pack["status"]["blockers"] >= 1
    titles = " ".join(r["title"] for r in pack["risky"])
    assert ".env" in titles
    assert pack["risky"][0]["severity"] == "blocker" and pack["risky"][0]["fix"]
    assert any("Rollback" in s["text"] for s in pack["deploys"][0]["rollback"])


def test_the_pack_shows_what_the_audit_saw_as_tables_in_html_and_markdown(tenant: Tenant, sandbox_env: Sandbox) -> None:
    domain = _client_on(tenant, "studiokit.test", Domain.HostingProvider.RENDER)
    execute(AuditRun.objects.create(domain=domain))
    version = pack_publish(client=tenant.client, user=tenant.consultant)
    seen = [r for r in version.data["risky"] if r["evidence"]]
    assert seen, "the studiokit audit leaves risks with evidence"
    assert version.html.count('<div class="evidence">') == len(seen)
    assert '<table class="evidence-table' in version.html
    assert version.markdown.count("What the audit saw:") == len(seen)
    for text in (version.html, version.markdown):
        assert "[[" not in text and "[(" not in text and "None" not in text and "{'" not in text


def test_publishing_freezes_what_the_founder_saw(audited: Tenant) -> None:
    first = pack_publish(client=audited.client, user=audited.consultant, note="End of sprint")
    html, markdown, data = first.html, first.markdown, first.data
    entry = AccessEntry.objects.get(client=audited.client, kind="registrar")
    entry.owner = "Somebody Else"
    entry.save()
    Contact.objects.filter(client=audited.client).update(name="Renamed Person")
    Domain.objects.filter(client=audited.client).update(hosting_provider=Domain.HostingProvider.VERCEL)
    second = pack_publish(client=audited.client, user=audited.consultant)
    first.refresh_from_db()
    assert (first.html, first.markdown, first.data) == (html, markdown, data)
    assert "Amelia Hart" in first.html and "Renamed Person" not in first.html
    assert "Renamed Person" in second.html and "Somebody Else" in second.markdown
    assert "vercel rollback" in second.markdown and "vercel rollback" not in first.markdown
    assert [v.number for v in PackVersion.objects.filter(client=audited.client)] == [2, 1]
    http = login(audited.founder)
    page = http.get(reverse("pack_version", args=[first.code])).content.decode()
    assert "Amelia Hart" in page and "Renamed Person" not in page and "This is an earlier version" in page


def test_the_markdown_export_carries_the_numbers(audited: Tenant) -> None:
    version = pack_publish(client=audited.client, user=audited.consultant)
    response = login(audited.founder).get(reverse("pack_version_markdown", args=[version.code]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/markdown")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    status = version.data["status"]
    assert f"| Go | {status['uptime_text']} | 750 ms | 0 |" in text
    assert text.startswith(f"# {audited.client.name}: handover pack v1")
    for heading in (
        "What we fixed",
        "What remains risky",
        "What to watch next week",
        "Domain map",
        "DNS inventory",
        "Email authentication",
        "Access inventory",
        "Where secrets live",
        "Deploying a change",
        "Rolling back",
        "Verifying monitoring after a change",
        "If something breaks",
        "Support contacts",
    ):
        assert heading in text, heading
    assert "heroku rollback v123 -a <app>" in text
    assert "| Domain registrar | Namecheap | Amelia | 1Password, Ops |" in text


def test_the_pdf_export_reads_like_the_pack(audited: Tenant) -> None:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (Debian's poppler-utils) is not installed")
    version = pack_publish(client=audited.client, user=audited.consultant)
    response = login(audited.founder).get(reverse("pack_version_pdf", args=[version.code]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    assert audited.client.name in text and "Contents" in text and "Rolling back" in text
    status = version.data["status"]
    assert status["uptime_figure"] in text and status["uptime_label"] in text and "750 ms" in text
    assert "Page 3 of" in text  # page numbers in the footer
    assert "heroku rollback v123" in text and "Amelia Hart" in text
    info = subprocess.run(["pdfinfo", "-"], input=response.content, capture_output=True, check=True).stdout.decode()
    assert "(A4)" in info


def test_the_pack_lists_what_the_sprint_checked_off(audited: Tenant) -> None:
    from handover.models import ChecklistTick

    ChecklistTick.objects.create(
        sprint=audited.sprint,
        item="environment_variables",
        done=True,
        notes="Keys moved to Heroku config vars",
        ticked_by=audited.consultant,
    )
    version = pack_publish(client=audited.client, user=audited.consultant)
    checked = {c["label"]: c["how"] for c in version.data["checked"]}
    assert checked["Domain setup"] == "Clean in the latest audit: every check of it ran and found nothing to fix."
    assert "Email authentication" not in checked  # clean records, but no real send has passed yet
    assert checked["Cloudflare configuration"] == f"The latest audit saw Cloudflare answer for www.{HEALTHY}."
    assert checked["Environment variables"].endswith("Keys moved to Heroku config vars")
    assert "Handover" not in checked
    assert "Checked and in order" in version.html and "Keys moved to Heroku config vars" in version.markdown


def test_a_broken_webhook_reads_in_the_pack_where_its_launch_ready_item_is(
    tenant: Tenant, sandbox_env: Sandbox
) -> None:
    redirecting = _client_on(tenant, "webhook-redirect.test")
    unsigned = Domain.objects.create(client=tenant.client, name="webhook-unsigned.test", hosts=["api"])
    for domain in (redirecting, unsigned):
        Route.objects.create(domain=domain, host="api", path="/webhooks/stripe", kind="webhook")
        execute(AuditRun.objects.create(domain=domain))
    pack = build_pack(tenant.client)
    redirect_title = "The webhook https://api.webhook-redirect.test/webhooks/stripe answers an event with a redirect: "
    (issue,) = next(d for d in pack["domains"] if d["domain"] == "webhook-redirect.test")["redirect_issues"]
    assert issue.startswith(redirect_title)
    unsigned_title = "The webhook https://api.webhook-unsigned.test/webhooks/stripe accepts an event with no signature"
    assert unsigned_title in pack["secrets"]["findings"]
    risky = {r["title"]: r for r in pack["risky"]}
    assert risky[unsigned_title]["severity"] == "high"
    version = pack_publish(client=tenant.client, user=tenant.consultant)
    assert "https://api.webhook-redirect.test/webhooks/stripe/" in version.markdown  # the Location it was sent to
