"""Each client's status row (launchready/status.py) is true: it changes with what it is computed from, through
the product's own paths (an audit queued and finished, a monitor added, paused or removed, an incident opened and
closed, a domain or client deleted), the backfill fills it for data recorded past those paths, and the pages that
read it show the figures the aggregates they replaced showed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from audits.client_status import client_verdicts
from audits.lifecycle import audit_run_perform, audit_runs_create, reap_stale_runs
from audits.models import AuditRun, RepoScan
from launchready.models import Client, ClientStatus, Domain, Route, Sprint
from launchready.sandbox.runner import Sandbox
from monitoring.models import Incident, Monitor
from monitoring.rollup import day_start
from monitoring.scheduler import ProbeOutcome, record, sync_monitors
from monitoring.tallies import recount
from tests.conftest import Tenant, login, make_tenant
from tests.factories import ClientFactory, DomainFactory, RouteFactory, SprintFactory
from tests.monitoring.test_tallies import _reference as uptime_reference
from web.status import refresh_all

AUDIT = ("verdict", "blockers", "auditing")
MONITORING = ("monitors", "down", "active_down", "paused", "open_incidents")


def _row(client: Client, fields: tuple[str, ...]) -> tuple[Any, ...]:
    status = ClientStatus.objects.filter(client=client).first() or ClientStatus()
    return tuple(getattr(status, name) for name in fields)


def _monitor(client: Client, **kwargs: Any) -> Monitor:
    route = RouteFactory(domain=DomainFactory(client=client))
    return Monitor.objects.create(client=client, route=route, url=route.url, **kwargs)


def _probe(monitor: Monitor, ok: bool) -> None:
    """One probe recorded by the scheduler's own code (a probe round of one monitor)."""
    monitor.refresh_from_db()
    now = timezone.now()
    record([monitor], [ProbeOutcome(monitor.id, monitor.next_due_at, now, ok, 200 if ok else 502, 90.0, "", "")], now)


# --- It changes with what it is computed from ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_audit_queued_then_finished_changes_the_row(sandbox_env: Sandbox) -> None:
    tenant = make_tenant()
    tenant.domain.delete()
    domain = DomainFactory(client=tenant.client, name="login-500.test", hosts=["app"])
    Route.objects.create(domain=domain, host="app", path="/login", kind=Route.Kind.LOGIN, expected_statuses=[200])
    assert _row(tenant.client, AUDIT) == ("", 0, False)  # never audited

    [run] = audit_runs_create(domains=[domain])
    assert _row(tenant.client, AUDIT) == ("", 0, True)
    page = login(tenant.consultant).get(reverse("dashboard")).content.decode()
    assert "Audit running" in page

    audit_run_perform(run.id)

    verdict, blockers, auditing = _row(tenant.client, AUDIT)
    assert (verdict, auditing) == ("no_go", False) and blockers >= 1
    assert blockers == AuditRun.objects.get(pk=run.pk).counts["blocker"]
    page = login(tenant.consultant).get(reverse("dashboard")).content.decode()
    assert f"No-go · {blockers} blocker" in page and "Audit running" not in page


@pytest.mark.django_db
def test_a_run_reaped_or_scanned_repository_changes_the_row(tenant: Tenant) -> None:
    AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.DONE, verdict="go", go=True, counts={})
    assert _row(tenant.client, AUDIT) == ("go", 0, False)
    stale = timezone.now() - timedelta(minutes=30)
    AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.RUNNING, heartbeat_at=stale)
    assert _row(tenant.client, AUDIT) == ("go", 0, True)  # the last verdict stands while a new audit runs

    assert reap_stale_runs() == 1  # ended by an UPDATE, not a save: the lifecycle refreshes the row itself
    assert _row(tenant.client, AUDIT) == ("go", 0, False)

    RepoScan.objects.create(client=tenant.client, filename="repo.zip", kind="zip", state="done", counts={"blocker": 2})
    assert _row(tenant.client, AUDIT) == ("no_go", 2, False)  # a committed key is a blocker on every screen


@pytest.mark.django_db
def test_an_incident_opening_and_closing_changes_the_row(tenant: Tenant) -> None:
    monitor = _monitor(tenant.client, alert_after=2, recover_after=2)
    assert _row(tenant.client, MONITORING) == (1, 0, 0, 0, 0)

    _probe(monitor, ok=False)
    assert _row(tenant.client, MONITORING) == (1, 0, 0, 0, 0)  # one failure: not down yet
    _probe(monitor, ok=False)
    assert _row(tenant.client, MONITORING) == (1, 1, 1, 0, 1)
    page = login(tenant.consultant).get(reverse("monitoring_overview")).content.decode()
    assert "1 route down right now" in page

    _probe(monitor, ok=True)
    _probe(monitor, ok=True)
    assert Incident.objects.get().ended_at is not None
    assert _row(tenant.client, MONITORING) == (1, 0, 0, 0, 0)


@pytest.mark.django_db
def test_a_monitor_added_paused_and_removed_changes_the_row(tenant: Tenant) -> None:
    assert sync_monitors() == 1  # the tenant's route gets its monitor in a bulk insert
    assert _row(tenant.client, MONITORING) == (1, 0, 0, 0, 0)
    down = _monitor(tenant.client, state=Monitor.State.DOWN)
    assert _row(tenant.client, MONITORING) == (2, 1, 1, 0, 0)

    http = login(tenant.consultant)
    http.post(reverse("monitor_pause", args=[down.code]), {"pause": "1"})
    assert _row(tenant.client, MONITORING) == (2, 1, 0, 1, 0)  # down, but paused: not on the overview's count

    http.post(reverse("route_delete", args=[down.route.code]))
    assert not Monitor.objects.filter(pk=down.pk).exists()
    assert _row(tenant.client, MONITORING) == (1, 0, 0, 0, 0)


@pytest.mark.django_db
def test_deleting_a_domain_or_a_client_changes_the_row(tenant: Tenant) -> None:
    blocked = DomainFactory(client=tenant.client)
    AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.DONE, verdict="go", go=True, counts={})
    AuditRun.objects.create(domain=blocked, state="done", verdict="no_go", go=False, counts={"blocker": 3})
    _monitor(tenant.client)
    Monitor.objects.create(client=tenant.client, route=RouteFactory(domain=blocked), url="https://x.example/")
    assert _row(tenant.client, AUDIT + MONITORING) == ("no_go", 3, False, 2, 0, 0, 0, 0)

    login(tenant.consultant).post(reverse("domain_delete", args=[blocked.code]))

    assert _row(tenant.client, AUDIT + MONITORING) == ("go", 0, False, 1, 0, 0, 0, 0)
    assert "Go" in login(tenant.consultant).get(reverse("dashboard")).content.decode()

    client_id = tenant.client.id
    Domain.objects.filter(client=tenant.client).delete()  # a queryset delete: each domain's signal still fires
    assert _row(tenant.client, AUDIT) == ("", 0, False)
    tenant.client.delete()
    assert not ClientStatus.objects.filter(client_id=client_id).exists()  # nothing left behind


@pytest.mark.django_db
def test_a_sprint_planned_started_completed_or_deleted_moves_the_client_on_the_dashboard(tenant: Tenant) -> None:
    now = timezone.now()
    later = ClientFactory(workspace=tenant.workspace, name="Aardvark later")
    first = SprintFactory(client=later, started_at=now, deadline=now + timedelta(hours=47), state=Sprint.State.PLANNED)
    assert _row(later, ("sprint_deadline",)) == (first.deadline,)

    def order() -> list[str]:
        return [r.client.name for r in login(tenant.consultant).get(reverse("dashboard")).context["rows"]]

    assert order() == [tenant.client.name, "Aardvark later"]  # the tenant's sprint ends sooner
    first.deadline = now + timedelta(hours=1)
    first.save()
    assert order() == ["Aardvark later", tenant.client.name]
    first.state = Sprint.State.COMPLETED
    first.save()
    assert _row(later, ("sprint_deadline",)) == (None,) and order() == [tenant.client.name, "Aardvark later"]
    Sprint.objects.filter(client=tenant.client).delete()  # no open sprint left: by name
    assert order() == ["Aardvark later", tenant.client.name]


# --- The backfill ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_backfill_fills_rows_for_data_recorded_past_the_code_that_keeps_them(tenant: Tenant) -> None:
    """Runs and monitors written with UPDATE and bulk inserts, as data recorded before the rows were kept."""
    other = ClientFactory(workspace=tenant.workspace)
    run = AuditRun.objects.create(domain=tenant.domain, state=AuditRun.State.QUEUED)
    Monitor.objects.bulk_create(
        [
            Monitor(client=other, route=RouteFactory(domain=DomainFactory(client=other)), url="https://a.example/"),
            Monitor(client=other, route=RouteFactory(domain=DomainFactory(client=other)), url="https://b.example/"),
        ]
    )
    AuditRun.objects.filter(pk=run.pk).update(state="done", verdict="no_go", go=False, counts={"blocker": 1})
    Monitor.objects.filter(client=other).update(state=Monitor.State.DOWN)
    assert _row(tenant.client, AUDIT) == ("", 0, True) and _row(other, MONITORING) == (0, 0, 0, 0, 0)  # stale

    call_command("refresh_status", stdout=(out := _Out()))

    assert _row(tenant.client, AUDIT) == ("no_go", 1, False)
    assert _row(other, MONITORING) == (2, 2, 2, 0, 0)
    assert "Refreshed the status of " in out.text and "the counts of 2 monitors" in out.text


class _Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


# --- The pages show what the aggregates they replaced showed ---------------------------------------------------


def _old_overview_lines(workspace_id: int, now: datetime) -> list[tuple[Any, ...]]:
    """The overview's lines as it computed them before the status rows (monitoring/summary.py until then):
    aggregates over every monitor and open incident of the workspace, sorted in Python."""
    monitors = Monitor.objects.filter(client__workspace_id=workspace_id)
    counts = {
        row["client_id"]: row
        for row in monitors.values("client_id").annotate(
            routes=Count("id"),
            down=Count("id", filter=Q(state=Monitor.State.DOWN, paused=False)),
            paused=Count("id", filter=Q(paused=True)),
            last=Max("last_checked_at"),
        )
    }
    incidents = dict(
        Incident.objects.filter(monitor__in=monitors, ended_at__isnull=True)
        .values("monitor__client_id")
        .annotate(n=Count("id"))
        .values_list("monitor__client_id", "n")
    )
    clients = list(Client.objects.filter(id__in=counts))
    clients.sort(key=lambda c: (-counts[c.id]["down"], -incidents.get(c.id, 0), c.name.lower()))
    uptime = uptime_reference([c.id for c in clients], now)
    lines = []
    for c in clients:
        n = counts[c.id]
        lines.append((c.name, n["routes"], n["down"], n["paused"], uptime.get(c.id), incidents.get(c.id, 0), n["last"]))
    return lines


def _seed(tenant: Tenant) -> list[Client]:
    """A workspace of many kinds of client, each made through the product's models as its pages meet them."""
    workspace, now = tenant.workspace, timezone.now()
    made = []

    def client(name: str, domains: int = 1) -> tuple[Client, list[Domain]]:
        c = ClientFactory(workspace=workspace, name=name)
        made.append(c)
        return c, [DomainFactory(client=c) for _ in range(domains)]

    def run(domain: Domain, ago: int, **values: Any) -> None:
        AuditRun.objects.create(domain=domain, created=now - timedelta(hours=ago), **values)

    c, _ = client("Never audited")
    SprintFactory(client=c, started_at=now, deadline=now + timedelta(hours=5), state=Sprint.State.PLANNED)
    c, [d] = client("First audit queued")
    SprintFactory(client=c, started_at=now - timedelta(hours=40), deadline=now + timedelta(hours=8))
    SprintFactory(client=c, started_at=now - timedelta(days=9), deadline=now - timedelta(days=7), state="completed")
    run(d, 0, state="queued")
    _, [a, b] = client("Go on both", 2)
    run(a, 30, state="done", verdict="no_go", go=False, counts={"blocker": 2})  # an older run: superseded
    run(a, 5, state="done", verdict="go", go=True, counts={"high": 1})
    run(b, 5, state="done", verdict="go", go=True, counts={})
    _, [a, b] = client("Blockers on two domains", 2)
    run(a, 5, state="done", verdict="no_go", go=False, counts={"blocker": 2, "low": 3})
    run(b, 4, state="done", verdict="no_go", go=False, counts={"blocker": 1})
    run(b, 0, state="running")
    _, [a] = client("Could not check")
    run(a, 5, state="partial", verdict="unchecked", go=False, counts={"medium": 1})
    _, [a] = client("Cut short")
    run(a, 5, state="partial", verdict="", go=None, counts={})
    c, [a] = client("Key in the repository")
    run(a, 5, state="done", verdict="go", go=True, counts={})
    RepoScan.objects.create(client=c, filename="r.zip", kind="zip", state="done", counts={"blocker": 1})
    RepoScan.objects.create(client=c, filename="r.zip", kind="zip", state="failed", created=now)  # not finished
    _, [a] = client("Failed audit")
    run(a, 1, state="failed")

    c, _ = client("Zed monitored, all up")
    for _ in range(3):
        _monitor(c, state=Monitor.State.UP, last_checked_at=now - timedelta(seconds=40))
    c, _ = client("Alpha with a route down")
    down = _monitor(c, state=Monitor.State.DOWN, last_checked_at=now)
    Incident.objects.create(monitor=down, started_at=now - timedelta(minutes=5), cause="status")
    _monitor(c, state=Monitor.State.UP, paused=True)
    c, _ = client("Beta paused while down")
    paused = _monitor(c, state=Monitor.State.DOWN, paused=True)
    Incident.objects.create(monitor=paused, started_at=now - timedelta(hours=2), cause="timeout")
    Incident.objects.create(monitor=paused, started_at=now - timedelta(days=2), ended_at=now - timedelta(days=1))
    c, _ = client("Gamma with history")
    m = _monitor(c, state=Monitor.State.UP, last_checked_at=now - timedelta(seconds=5))
    for back in range(1, 12):
        m.rollups.create(period="day", start=day_start(now) - timedelta(days=back), probes=1440, failures=back % 3)
    m.rollups.create(period="hour", start=now.replace(minute=0, second=0, microsecond=0), probes=0)
    recount([m.id])
    for ok in (True, False, True):
        _probe(m, ok)
    return made


@pytest.mark.django_db
def test_the_pages_show_the_figures_the_aggregates_showed(tenant: Tenant) -> None:
    clients = _seed(tenant)
    http = login(tenant.consultant)
    ids = [c.id for c in [tenant.client, *clients]]
    old = client_verdicts(ids)  # the dashboard's verdicts as computed before the status rows, from the runs

    rows = http.get(reverse("dashboard")).context["rows"]
    first_open = Sprint.objects.current().filter(client=OuterRef("pk")).order_by("started_at")
    old_order = (  # the dashboard's order as computed before the status rows: a subquery per client
        Client.objects.filter(workspace=tenant.workspace)
        .annotate(deadline=Subquery(first_open.values("deadline")[:1]))
        .order_by(F("deadline").asc(nulls_last=True), "name", "id")
        .values_list("id", flat=True)
    )
    assert [r.client.id for r in rows] == list(old_order)

    shown = {r.client.id: (r.verdict, r.blockers, r.auditing) for r in rows}
    assert shown == {cid: old.get(cid, ("", 0, False)) for cid in ids}
    assert {shown[c.id] for c in clients} >= {("go", 0, False), ("no_go", 3, True), ("unchecked", 0, False),
                                              ("no_go", 1, False), ("", 0, True), ("", 0, False)}  # fmt: skip

    before = timezone.now()
    lines = http.get(reverse("monitoring_overview")).context["clients"]
    after = timezone.now()
    new = [(s.client.name, s.routes, s.down, s.paused, s.uptime, s.open_incidents, s.last_checked_at) for s in lines]
    # The window runs to the page's own clock, read somewhere between these two: a second may tick over in between.
    assert new in (_old_overview_lines(tenant.workspace.id, before), _old_overview_lines(tenant.workspace.id, after))
    assert [line[0] for line in new[:2]] == ["Alpha with a route down", "Beta paused while down"]
    assert next(line for line in new if line[0] == "Gamma with history")[4] is not None

    page = http.get(reverse("client_detail", args=[clients[9].code])).content.decode()
    assert "1 route down" in page  # the client page's count of routes down, from the same row

    refresh_all()  # the backfill over rows the product kept: nothing to change
    again = http.get(reverse("dashboard")).context["rows"]
    assert [(r.client.id, r.verdict, r.blockers, r.auditing) for r in again] == [
        (r.client.id, r.verdict, r.blockers, r.auditing) for r in rows
    ]
