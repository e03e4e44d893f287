"""The jobs and journeys on each client's status row (monitoring/client_status.py) are true and on the pages: a
heartbeat alerted late by the sweep, a /fail ping, the ping that puts it right, pause, resume and removal; a
journey failing its scheduled rounds on the sandbox, disabled and deleted; each time the row's figures are what
a direct count of the heartbeats and journeys gives, the dashboard's row, the overview's line and the client
page say it in words linked to the client's monitoring page, the overview puts the client above the healthy
ones, and the pages' queries do not grow with the clients. And the client page says which route the latest
deploy made slower."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from selectolax.lexbor import LexborHTMLParser

from launchready.models import Client, ClientStatus
from launchready.sandbox.runner import Sandbox
from monitoring import lateness
from monitoring.heartbeat_facts import facts
from monitoring.journey_scheduler import advance, tick
from monitoring.journeys import create_journey, set_secret
from monitoring.models import Heartbeat, Journey, JourneyRun, Monitor
from monitoring.pings import heartbeat_create, ping_token, record_ping
from tests.conftest import Tenant, login
from tests.factories import ClientFactory, DeployFactory, DomainFactory, MonitorFactory, RouteFactory
from tests.monitoring.latency_data import deploy_hours
from web.status import refresh_all

pytestmark = pytest.mark.django_db

COUNTS = ("heartbeats", "heartbeats_late", "heartbeats_failed", "journeys", "journeys_failing")


def _row(client: Client) -> tuple[Any, ...]:
    status = ClientStatus.objects.filter(client=client).first() or ClientStatus()
    return tuple(getattr(status, name) for name in COUNTS)


def _counted(client: Client) -> tuple[int, ...]:
    """The same figures counted directly: each heartbeat's state as its own page says it (heartbeat_facts), and
    the enabled journeys and those of them failing."""
    now = timezone.now()
    states = [facts(h, now).state for h in Heartbeat.objects.filter(client=client).select_related("client")]
    journeys = Journey.objects.filter(client=client, enabled=True)
    return (
        len(states),
        states.count("late"),
        states.count("failed"),
        journeys.count(),
        journeys.filter(state=Monitor.State.DOWN).count(),
    )


def _late_heartbeat(client: Client, name: str = "Nightly backup") -> Heartbeat:
    """A job every hour with ten minutes' grace that last ran two hours ago: late by the clock, not alerted yet."""
    heartbeat = heartbeat_create(client=client, name=name, period_minutes=60, grace_minutes=10)
    fresh = Heartbeat.objects.select_related("client").get(pk=heartbeat.pk)
    record_ping(fresh, Heartbeat.Ping.SUCCESS, "", timezone.now() - timedelta(hours=2))
    return fresh


def _failed_run(journey: Journey, at: Any) -> JourneyRun:
    return JourneyRun.objects.create(
        journey=journey,
        trigger=JourneyRun.Trigger.MONITOR,
        started_at=at,
        ms=120.0,
        ok=False,
        failing_step=0,
        summary="“Open the dashboard” answered 500",
        steps=[{"name": "Open the dashboard", "ran": True, "ok": False, "ms": 120.0}],
    )


def _failing_journey(client: Client, name: str) -> Journey:
    """A journey failed as a monitor by the product's own state machine: two failed scheduled runs in a row."""
    journey = Journey.objects.create(client=client, name=name, interval=60)
    start = timezone.now() - timedelta(minutes=5)
    for minute in range(journey.alert_after):
        journey.refresh_from_db()
        advance(journey, _failed_run(journey, start + timedelta(minutes=minute)), start + timedelta(minutes=minute))
    assert Journey.objects.get(pk=journey.pk).state == Monitor.State.DOWN
    return journey


def _words(http: HttpClient) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """What the dashboard's rows and the overview's lines say is down or failing, by client name."""
    rows = http.get(reverse("dashboard")).context["rows"]
    lines = http.get(reverse("monitoring_overview")).context["clients"]
    return (
        {r.client.name: [t.text for t in r.troubles] for r in rows},
        {s.client.name: [t.text for t in s.troubles] for s in lines},
    )


# --- Heartbeats -----------------------------------------------------------------------------------------------


def test_a_job_alerted_late_by_the_sweep_failing_put_right_paused_and_removed(tenant: Tenant) -> None:
    client = tenant.client
    http = login(tenant.consultant)
    backup = _late_heartbeat(client)
    assert facts(backup, timezone.now()).state == "late"  # late by the clock…
    assert _row(client) == (1, 0, 0, 0, 0)  # …but not alerted yet: the row moves with the alert

    assert lateness.sweep() == {"late": 1}
    assert _row(client) == _counted(client) == (1, 1, 0, 0, 0)
    dashboard, overview = _words(http)
    assert dashboard[client.name] == overview[client.name] == ["1 job late"]
    page = http.get(reverse("dashboard")).content.decode()
    monitoring = reverse("client_monitoring", args=[client.code])
    assert f'<a class="badge badge-warn" href="{monitoring}" data-trouble>1 job late</a>' in page

    resizer = heartbeat_create(client=client, name="Image resizer", period_minutes=60)
    pinger = HttpClient()
    assert pinger.post(f"/ping/{ping_token(resizer)}/fail", b"cannot identify image", "text/plain").status_code == 200
    assert _row(client) == _counted(client) == (2, 1, 1, 0, 0)  # at once, before any sweep
    assert _words(http)[0][client.name] == ["1 job failed", "1 job late"]
    assert lateness.sweep() == {"failed": 1}  # alerted: the row says so already
    assert _row(client) == (2, 1, 1, 0, 0)

    assert pinger.get(f"/ping/{ping_token(backup)}").status_code == 200  # the backup ran: no longer late
    assert _row(client) == _counted(client) == (2, 0, 1, 0, 0)
    assert lateness.sweep() == {"back": 1}
    assert _row(client) == (2, 0, 1, 0, 0)

    http.post(reverse("heartbeat_pause", args=[resizer.code]), {"pause": "1"})
    assert _row(client) == _counted(client) == (2, 0, 0, 0, 0)  # paused: neither late nor failed
    assert _words(http)[0][client.name] == []
    http.post(reverse("heartbeat_pause", args=[resizer.code]), {"pause": "0"})
    assert _row(client) == _counted(client) == (2, 0, 1, 0, 0)  # its last run still failed
    http.post(reverse("heartbeat_delete", args=[resizer.code]))
    assert _row(client) == _counted(client) == (1, 0, 0, 0, 0)


def test_a_job_made_late_by_an_edit_is_counted_once_the_sweep_alerts_it(tenant: Tenant) -> None:
    client = tenant.client
    http = login(tenant.consultant)
    job = heartbeat_create(client=client, name="Digest", period_minutes=60 * 24, grace_minutes=10)
    three_hours_ago = timezone.now() - timedelta(hours=3)
    record_ping(Heartbeat.objects.select_related("client").get(pk=job.pk), "success", "", three_hours_ago)
    lateness.sweep()
    assert _row(client) == _counted(client) == (1, 0, 0, 0, 0)  # daily: not late
    data = {
        "name": "Digest",
        "kind": "job",
        "schedule": "period",
        "period_minutes": 60,
        "grace_minutes": 10,
        "cron": "",
    }
    assert http.post(reverse("heartbeat_edit", args=[job.code]), data).status_code == 302  # hourly now
    lateness.sweep()
    assert _row(client) == _counted(client) == (1, 1, 0, 0, 0)


# --- Journeys -------------------------------------------------------------------------------------------------


def test_a_journey_failing_its_rounds_on_the_sandbox_then_disabled_and_deleted(
    sandbox_env: Sandbox, tenant: Tenant
) -> None:
    from launchready.sandbox.saas_app import ACCOUNT_EMAIL, APEX_OF, Flaw, api_token
    from monitoring.journey_templates import sign_in

    client = tenant.client
    http = login(tenant.consultant)
    apex = APEX_OF[Flaw.NONE]
    tenant.domain.delete()
    DomainFactory(client=client, name=apex)
    steps = sign_in(f"https://app.{apex}/login", f"https://app.{apex}/dashboard", f"https://api.{apex}/v1/me")
    journey = create_journey(client, "Sign-in", steps, next_due_at=timezone.now() - timedelta(seconds=1))
    for name, value in (("email", ACCOUNT_EMAIL), ("password", "a wrong password"), ("api_token", api_token(apex))):
        set_secret(journey, name, value)
    assert _row(client) == (0, 0, 0, 1, 0)
    start = timezone.now()
    for minute in range(journey.alert_after):  # the app refuses the test account: failing after two rounds
        Journey.objects.filter(pk=journey.pk).update(next_due_at=start + timedelta(minutes=minute))
        assert tick(start + timedelta(minutes=minute)) == 1
        assert _row(client) == _counted(client)
    assert _row(client) == (0, 0, 0, 1, 1)
    assert ClientStatus.objects.get(client=client).failing_journey == "Sign-in"
    dashboard, overview = _words(http)
    assert dashboard[client.name] == overview[client.name] == ["Sign-in journey failing"]
    page = http.get(reverse("client_detail", args=[client.code])).content.decode()
    monitoring = reverse("client_monitoring", args=[client.code])
    assert f'href="{monitoring}" data-trouble>Sign-in journey failing</a>' in page

    other = _failing_journey(client, "Checkout journey")
    assert _row(client) == _counted(client) == (0, 0, 0, 2, 2)
    assert _words(http)[0][client.name] == ["2 journeys failing"]

    form = {"name": "Sign-in", "interval": 300, "alert_after": 2, "recover_after": 2, "variables_text": ""}
    assert http.post(reverse("journey_detail", args=[journey.code]), form).status_code == 302  # not enabled
    assert not Journey.objects.get(pk=journey.pk).enabled
    assert _row(client) == _counted(client) == (0, 0, 0, 1, 1)
    assert _words(http)[0][client.name] == ["Checkout journey failing"]  # not "Checkout journey journey"

    http.post(reverse("journey_delete", args=[other.code]))
    assert _row(client) == _counted(client) == (0, 0, 0, 0, 0)
    assert ClientStatus.objects.get(client=client).failing_journey == ""


def test_a_journey_named_as_markup_stays_text(tenant: Tenant) -> None:
    name = '<script>alert("lrx")</script>'
    _failing_journey(tenant.client, name)
    http = login(tenant.consultant)
    for url in (
        reverse("dashboard"),
        reverse("monitoring_overview"),
        reverse("client_detail", args=[tenant.client.code]),
    ):
        page = http.get(url).content.decode()
        tree = LexborHTMLParser(page)
        assert [b.text() for b in tree.css("[data-trouble]")] == [f"{name} journey failing"], url  # as text
        assert "&lt;script&gt;alert(" in page and "<script>alert(" not in page, url
        assert not any("lrx" in (s.text() or "") for s in tree.css("script")), url


# --- The overview's order, the backfill, the pages' queries ---------------------------------------------------


def test_the_overview_puts_a_client_with_a_job_or_journey_failing_above_healthy_ones(tenant: Tenant) -> None:
    workspace = tenant.workspace
    healthy = ClientFactory(workspace=workspace, name="Aardvark all up")
    MonitorFactory(route=RouteFactory(domain=DomainFactory(client=healthy)), state=Monitor.State.UP)
    jobs_only = ClientFactory(workspace=workspace, name="Zebra with a late job")
    _late_heartbeat(jobs_only)
    journeys_only = ClientFactory(workspace=workspace, name="Yak with a failing journey")
    _failing_journey(journeys_only, "Sign-in")
    quiet = ClientFactory(workspace=workspace, name="Beaver with a job on time")
    heartbeat_create(client=quiet, name="Queue worker")
    ClientFactory(workspace=workspace, name="Cat with nothing watched")
    lateness.sweep()

    lines = login(tenant.consultant).get(reverse("monitoring_overview")).context["clients"]
    names = [s.client.name for s in lines]
    assert names[:2] == ["Yak with a failing journey", "Zebra with a late job"]  # by name among the failing
    assert names[2:] == ["Aardvark all up", "Beaver with a job on time"]  # watched; the rest are not
    overview = login(tenant.consultant).get(reverse("monitoring_overview")).content.decode()
    assert "Every route is up" in overview and "Everything is up" not in overview  # not with a job late
    page = login(tenant.consultant).get(reverse("dashboard")).content.decode()
    assert "Not monitored" in page and "All up" in page


def test_the_backfill_counts_jobs_and_journeys_recorded_past_the_code_that_keeps_them(tenant: Tenant) -> None:
    other = ClientFactory(workspace=tenant.workspace)
    now = timezone.now()
    Heartbeat.objects.bulk_create(
        [
            Heartbeat(client=other, name="a", token_digest="a" * 64, last_ping_at=now, last_failure_at=now),
            Heartbeat(
                client=other, name="b", token_digest="b" * 64, paused=True, last_ping_at=now, last_failure_at=now
            ),
        ]
    )
    Journey.objects.bulk_create(
        [
            Journey(client=other, name="Sign-in", state=Monitor.State.DOWN),
            Journey(client=other, name="Off", enabled=False),
        ]
    )
    assert _row(other) == (0, 0, 0, 0, 0)  # stale
    refresh_all()
    assert _row(other) == _counted(other) == (2, 0, 1, 1, 1)
    assert ClientStatus.objects.get(client=other).failing_journey == "Sign-in"


def _troubled_client(workspace: Any, n: int) -> Client:
    client = ClientFactory(workspace=workspace, name=f"Client {n:02d}")
    MonitorFactory(route=RouteFactory(domain=DomainFactory(client=client)), state=Monitor.State.DOWN)
    _late_heartbeat(client, "Backup")
    failed = heartbeat_create(client=client, name="Resizer")
    record_ping(Heartbeat.objects.select_related("client").get(pk=failed.pk), "fail", "", timezone.now())
    _failing_journey(client, "Sign-in")
    return client


def test_the_dashboard_and_overview_queries_stay_the_same_with_more_clients_failing(tenant: Tenant) -> None:
    http = login(tenant.consultant)

    def queries(url: str) -> int:
        http.get(url)  # the session and caches warmed
        with CaptureQueriesContext(connection) as captured:
            assert http.get(url).status_code == 200
        return len(captured)

    _troubled_client(tenant.workspace, 0)
    lateness.sweep()
    few = {url: queries(url) for url in (reverse("dashboard"), reverse("monitoring_overview"))}
    for n in range(1, 7):
        _troubled_client(tenant.workspace, n)
    lateness.sweep()
    rows = http.get(reverse("dashboard")).context["rows"]
    assert sum(1 for r in rows if [t.text for t in r.troubles] == [
        "1 route down", "1 job failed", "1 job late", "Sign-in journey failing"
    ]) == 7  # fmt: skip
    assert {url: queries(url) for url in few} == few


# --- The client page: its strip -------------------------------------------------------------------------------


def test_the_client_page_says_what_is_failing_and_which_route_the_last_deploy_made_slower(tenant: Tenant) -> None:
    now = timezone.now()
    login_route = MonitorFactory(route=tenant.route)
    deploy = DeployFactory(client=tenant.client, created=now - timedelta(hours=2), version="v2.0.0")
    deploy_hours(login_route, deploy.created, 90.0, 280.0, now)
    _late_heartbeat(tenant.client)
    lateness.sweep()
    words = f"p95 of {tenant.route.path} up from 100 ms to 300 ms after this deploy"

    page = login(tenant.consultant).get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    strip = page.split('class="row small status-strip"')[1].split("</div>")[0]
    assert ">1 job late</a>" in strip and "Last deploy v2.0.0" in strip
    deploys = reverse("deploy_tokens", args=[tenant.client.code])
    assert f'<a class="deploy-slower" href="{deploys}" data-deploy-slower>{words}</a>' in strip

    founder = login(tenant.founder).get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert f"data-deploy-slower>{words}</span>" in founder  # said, not linked: the deploys page is the staff's
