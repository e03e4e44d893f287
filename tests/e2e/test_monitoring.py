"""In a real browser: the consultant reads a client's monitoring page (per-route status, 90-day uptime
bars, p95 lines with a deploy marker, the incident and its timeline) and the overview of every client,
after real probe rounds on the sandbox; the founder sees their own monitoring page, on a phone too. And the
heartbeats: one added through the form, jobs pinging over HTTP, late, failing and never pinged ones shown. And
the deploys page: each core route's p95 the day before and the hour after a deploy, at desktop and phone width.
And the dashboard and the overview with a job late and a journey failing, at both widths."""

from __future__ import annotations

import asyncio
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from launchready.models import Route
from launchready.sandbox.runner import Sandbox
from monitoring import lateness
from monitoring.journey_scheduler import advance
from monitoring.models import Alert, AlertChannel, Deploy, Heartbeat, Journey, JourneyRun, Monitor
from monitoring.pings import heartbeat_create, ping_token, ping_url, record_ping
from monitoring.rollup import rollup_day, rollup_hour
from monitoring.scheduler import claim_due, probe_round, record
from tests.e2e.conftest import Screens
from tests.factories import PASSWORD, ClientFactory, DomainFactory, MembershipFactory, UserFactory
from tests.monitoring.latency_data import probe, roll_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server.url + reverse("account_login"))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")


def test_consultant_and_founder_read_the_monitoring_pages(
    world_sandbox: Sandbox, live_server, browser, screens: Screens
) -> None:  # type: ignore[no-untyped-def]
    consultant = UserFactory(email="dana@northstar.example")
    membership = MembershipFactory(user=consultant, role=Role.OWNER)
    client = ClientFactory(workspace=membership.workspace, name="Brightpath")
    founder = UserFactory(email="amelia@brightpath.example")
    MembershipFactory(user=founder, workspace=membership.workspace, role=Role.FOUNDER, client=client)
    ClientFactory(workspace=membership.workspace, name="Studiokit")  # a client without monitors yet
    domain = DomainFactory(client=client, name="launch-ready.test", hosts=["app", "api"])
    start = timezone.now() - timedelta(minutes=7)
    for host, path, kind in (("www", "/", "homepage"), ("app", "/login", "login"), ("api", "/health", "api_health")):
        route = Route.objects.create(domain=domain, host=host, path=path, kind=kind, expected_statuses=[200])
        Monitor.objects.create(client=client, route=route, url=route.url, expected_statuses=[200], next_due_at=start)
    login = Monitor.objects.get(route__path="/login")
    Deploy.objects.create(client=client, version="v2.4.0", commit="9f2c1ab", smoke=Deploy.Smoke.PASSED)
    for minute in range(7):  # seven real rounds; the login route fails in rounds 2 to 4: one outage, recovered
        url = "https://app.login-500.test/login" if 2 <= minute <= 4 else "https://app.launch-ready.test/login"
        Monitor.objects.filter(pk=login.pk).update(url=url)
        at = start + timedelta(minutes=minute)
        monitors = claim_due(at)
        with ThreadPoolExecutor(1) as pool:  # Playwright's event loop runs in this thread
            outcomes = pool.submit(asyncio.run, probe_round(monitors, world_sandbox.net_config())).result()
        record(monitors, outcomes, at)
        Monitor.objects.filter(pk__in=[m.pk for m in monitors]).update(next_due_at=at + timedelta(minutes=1))
    for moment in (start, timezone.now()):
        rollup_hour(moment)
        rollup_day(moment)

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(page, live_server, consultant.email)
    page.goto(live_server.url + reverse("client_monitoring", args=[client.code]))
    assert "Resolved" in page.inner_text("details.incident summary")
    page.click("details.incident summary")  # the timeline of the outage
    timeline = page.inner_text("details.incident")
    assert "answered 500" in timeline and "Marked down" in timeline and "Recovered" in timeline
    assert page.locator("svg.uptime-bar").count() == 3
    assert page.locator("svg.uptime-bar rect").count() == 0  # a path per colour, not a shape per day
    assert 3 <= page.locator("svg.uptime-bar path").count() <= 3 * 5
    assert page.locator("svg.uptime-bar").first.get_attribute("aria-label").startswith("Uptime by day, last 90 days: ")
    assert page.locator("svg.p95-line").count() >= 1
    screens.shot(page, "client-monitoring")
    page.goto(live_server.url + reverse("monitoring_overview"))
    text = page.inner_text("main")
    assert "Everything is up" in text  # the outage recovered after two successes
    assert page.locator("tr.client-summary").count() == 1 and "Brightpath" in text
    screens.shot(page, "overview")
    assert not errors, errors
    page.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    _sign_in(phone, live_server, founder.email)
    phone.goto(live_server.url + reverse("client_monitoring", args=[client.code]))
    assert "api.launch-ready.test/health" in phone.inner_text("main")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scroll
    screens.shot(phone, "founder-phone")
    assert phone.goto(live_server.url + reverse("monitoring_overview")).status == 404
    phone.close()


def test_consultant_adds_a_heartbeat_and_reads_the_jobs_on_the_monitoring_page(
    live_server, browser, screens: Screens
) -> None:  # type: ignore[no-untyped-def]
    consultant = UserFactory(email="dana@northstar.example")
    membership = MembershipFactory(user=consultant, role=Role.OWNER)
    client = ClientFactory(workspace=membership.workspace, name="Brightpath", timezone="Europe/Paris")
    founder = UserFactory(email="amelia@brightpath.example")
    MembershipFactory(user=founder, workspace=membership.workspace, role=Role.FOUNDER, client=client)
    AlertChannel.objects.create(client=client, kind="email", name="Founders", recipients=["amelia@example.com"])
    worker = heartbeat_create(client=client, name="Queue worker", kind="worker", period_minutes=5, grace_minutes=5)
    resizer = heartbeat_create(client=client, name="Image resizer", kind="job", period_minutes=60)
    digest = heartbeat_create(client=client, name="Weekly digest", schedule="cron", cron="0 9 * * mon")
    record_ping(  # last pinged eight days ago, the Monday before last: late
        Heartbeat.objects.select_related("client").get(pk=digest.pk), "success", "", timezone.now() - timedelta(days=8)
    )
    heartbeat_create(client=client, name="Invoice emails", kind="job")  # never pinged

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(page, live_server, consultant.email)
    page.goto(live_server.url + reverse("client_monitoring", args=[client.code]))
    page.click("text=Add a heartbeat")
    page.fill("input[name=name]", "Nightly backup")
    page.select_option("select[name=kind]", "cron")
    page.check("input[name=schedule][value=cron]")
    page.fill("input[name=cron]", "0 3 * * *")
    page.fill("input[name=grace_minutes]", "30")
    page.click("main button[type=submit]")
    assert "Heartbeat Nightly backup added" in page.inner_text("main")
    backup = Heartbeat.objects.get(name="Nightly backup")
    assert backup.cron == "0 3 * * *" and ping_url(backup) in page.inner_text("main")
    screens.shot(page, "heartbeat-added")

    # The jobs ping over HTTP as they would from the client's servers.
    def ping(heartbeat: Heartbeat, suffix: str = "", body: bytes | None = None) -> None:
        url = f"{live_server.url}/ping/{ping_token(heartbeat)}{suffix}"  # the test's own live server
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as answer:  # noqa: S310
            assert answer.status == 200 and answer.read() == b"OK\n"

    ping(backup, "/start")
    Heartbeat.objects.filter(pk=backup.pk).update(started_at=timezone.now() - timedelta(minutes=4, seconds=12))
    ping(backup, "", b"backup: 12.4 GB in 4 min")
    ping(worker)
    ping(resizer, "/start")
    ping(resizer, "/fail", b"PIL.UnidentifiedImageError: cannot identify image file 'upload-8812.heic'")
    lateness.sweep()
    assert sorted(Alert.objects.values_list("kind", flat=True)) == ["job_fail", "late"]

    page.goto(live_server.url + reverse("client_monitoring", args=[client.code]))
    states = page.locator("[data-heartbeat]").evaluate_all("els => els.map(e => e.dataset.heartbeat)")
    assert states == ["failed", "late", "up", "up", "never"]
    section = page.inner_text("#heartbeats")
    assert "Last run took: 4 min" in section and "Late and failing, lately" in section
    assert "cannot identify image file" in section
    page.locator("#heartbeats .monitor").nth(0).locator("summary").click()  # the failing job's URL, snippets, body
    assert page.locator("#heartbeats [data-copy]").first.is_visible()
    screens.shot(page, "heartbeats-desktop")
    assert not errors, errors
    page.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    _sign_in(phone, live_server, founder.email)
    phone.goto(live_server.url + reverse("client_monitoring", args=[client.code]))
    phone.locator("#heartbeats .monitor").nth(2).locator("summary").click()  # the backup's snippets
    assert "Nightly backup" in phone.inner_text("#heartbeats") and "Add a heartbeat" not in phone.inner_text("main")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scroll
    screens.shot(phone, "heartbeats-founder-phone")
    phone.close()


def test_the_deploys_page_shows_each_routes_p95_before_and_after_on_a_phone_too(
    live_server, browser, screens: Screens
) -> None:  # type: ignore[no-untyped-def]
    consultant = UserFactory(email="dana@northstar.example")
    membership = MembershipFactory(user=consultant, role=Role.OWNER)
    client = ClientFactory(workspace=membership.workspace, name="Brightpath")
    domain = DomainFactory(client=client, name="brightpath-app-with-a-long-name.example", hosts=["app", "api"])
    now = timezone.now()
    slow = Deploy.objects.create(
        client=client, version="v3.1.0", commit="9f2c1ab", smoke=Deploy.Smoke.PASSED, created=now - timedelta(hours=2)
    )
    for host, path, kind, before, after, every in (
        ("app", "/login", "login", 90.0, 280.0, 60),
        ("app", "/billing/checkout/confirm", "checkout", 180.0, 190.0, 60),
        ("api", "/health", "api_health", 40.0, 45.0, 300),  # every five minutes: too few in the hour to tell
    ):
        route = Route.objects.create(domain=domain, host=host, path=path, kind=kind, expected_statuses=[200])
        monitor = Monitor.objects.create(client=client, route=route, url=route.url, interval=every)
        probe(monitor, slow.created - timedelta(hours=25), slow.created, before, every)
        probe(monitor, slow.created, now, after, every)
    roll_up(slow.created - timedelta(hours=25), now)
    fresh = now - timedelta(minutes=20)
    Deploy.objects.create(client=client, version="v3.1.1", commit="77aa01c", smoke=Deploy.Smoke.PASSED, created=fresh)
    url = live_server.url + reverse("deploy_tokens", args=[client.code])

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, live_server, consultant.email)
    page.goto(url)
    text = page.inner_text("ul.deploy-list")
    assert "p95 100 ms before → 300 ms after, 3.0× slower" in text and "1 route slower since" in text
    assert "p95 200 ms before → 200 ms after, steady" in text
    assert "too few probes to tell (12 in the hour after, 20 needed)" in text
    assert "measuring until" in text
    assert page.locator("li.p95-slower").count() == 1
    screens.shot(page, "deploys")
    page.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    _sign_in(phone, live_server, consultant.email)
    phone.goto(url)
    assert "3.0× slower" in phone.inner_text("ul.deploy-list")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scroll
    screens.shot(phone, "deploys-phone")
    phone.close()


def test_the_dashboard_and_overview_say_which_jobs_are_late_and_journeys_failing_on_a_phone_too(
    live_server, browser, screens: Screens
) -> None:  # type: ignore[no-untyped-def]
    consultant = UserFactory(email="dana@northstar.example")
    membership = MembershipFactory(user=consultant, role=Role.OWNER)
    client = ClientFactory(workspace=membership.workspace, name="Brightpath")
    ClientFactory(workspace=membership.workspace, name="Studiokit")  # nothing watched yet
    calm = ClientFactory(workspace=membership.workspace, name="Acme Analytics")
    heartbeat_create(client=calm, name="Queue worker")
    backup = heartbeat_create(client=client, name="Nightly backup", period_minutes=60, grace_minutes=10)
    record_ping(
        Heartbeat.objects.select_related("client").get(pk=backup.pk), "success", "", timezone.now() - timedelta(hours=2)
    )
    lateness.sweep()  # alerted late
    journey = Journey.objects.create(client=client, name="Sign-in", interval=60)
    start = timezone.now() - timedelta(minutes=5)
    for minute in range(journey.alert_after):  # two failed scheduled runs: failing
        journey.refresh_from_db()
        run = JourneyRun.objects.create(
            journey=journey,
            trigger=JourneyRun.Trigger.MONITOR,
            started_at=start + timedelta(minutes=minute),
            ms=120.0,
            ok=False,
            failing_step=0,
            summary="“Open the dashboard” answered 500",
        )
        advance(journey, run, start + timedelta(minutes=minute))

    for width, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})):
        page = browser.new_page(viewport=viewport)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # noqa: B023
        _sign_in(page, live_server, consultant.email)
        page.goto(live_server.url + reverse("dashboard"))
        row = page.locator("#client-rows tr", has_text="Brightpath")
        assert row.locator("[data-trouble]").all_inner_texts() == ["1 job late", "Sign-in journey failing"]
        assert "Not monitored" in page.inner_text("#client-rows tr:has-text('Studiokit')")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scroll
        screens.shot(page, f"dashboard-{width}")
        page.goto(live_server.url + reverse("monitoring_overview"))
        assert "Every route is up" in page.inner_text("main") and "Everything is up" not in page.inner_text("main")
        lines = page.locator("tr.client-summary")
        assert lines.count() == 2 and "Brightpath" in lines.first.inner_text()  # failing first
        assert lines.first.locator("[data-trouble]").all_inner_texts() == ["1 job late", "Sign-in journey failing"]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        screens.shot(page, f"overview-{width}")
        row_link = reverse("client_monitoring", args=[client.code])
        page.goto(live_server.url + reverse("dashboard"))
        page.locator("#client-rows [data-trouble]", has_text="Sign-in journey failing").click()
        page.wait_for_url(f"**{row_link}")
        assert not errors, errors
        page.close()
