"""Heartbeats alert through the alert pipeline: late (period and grace, or a cron expression on a non-UTC
clock), a run that never finishes, a reported failure (even one followed by a success before the sweep came by),
each once per channel whatever the sweeps; the return once; held by the client's maintenance; nothing for a
heartbeat never pinged or paused. The clock is the `now` each call is given."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connections

from launchready.sandbox.hostile_text import MARKER, SCRIPT, fitted
from monitoring import lateness
from monitoring.delivery import alert_send
from monitoring.messages import alert_message
from monitoring.models import Alert, AlertChannel, Deploy, Heartbeat, HeartbeatOutage, MaintenanceWindow, Monitor
from monitoring.pings import heartbeat_create, record_ping
from monitoring.tasks import monitoring_heartbeats
from tests.conftest import Tenant, make_tenant
from tests.hostile_checks import markup_problems, text_problems

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _channels(tenant: Tenant) -> None:
    AlertChannel.objects.create(client=tenant.client, kind="email", name="Founders", recipients=["amelia@example.com"])
    hook = AlertChannel(client=tenant.client, kind="webhook", name="Ops hook")
    hook.config = {"url": "https://hooks.example/lr", "signing_secret": "whsec-x"}
    hook.save()


def _heartbeat(tenant: Tenant, **fields: object) -> Heartbeat:
    fields = {"name": "Nightly backup", "period_minutes": 60, "grace_minutes": 10, **fields}
    return heartbeat_create(client=tenant.client, **fields)


def _ping(heartbeat: Heartbeat, kind: str, at: datetime, body: str = "") -> None:
    record_ping(Heartbeat.objects.select_related("client").get(pk=heartbeat.pk), kind, body, at)


def _kinds() -> list[str]:
    return sorted(Alert.objects.values_list("kind", flat=True))


def _emails() -> list[str]:
    """Send the queued email alerts as the worker would; their subjects."""
    mail.outbox = []
    for alert in Alert.objects.filter(state="pending", channel__kind="email"):
        alert_send(alert_id=alert.id)
    return [m.subject for m in mail.outbox]


@pytest.mark.django_db
def test_late_by_period_and_grace_alerts_once_and_its_return_once(tenant: Tenant) -> None:
    _channels(tenant)
    heartbeat = _heartbeat(tenant)
    _ping(heartbeat, "success", T0)
    assert lateness.sweep(T0 + timedelta(minutes=69)) == {}  # expected at 13:00, grace until 13:10
    assert lateness.sweep(T0 + timedelta(minutes=70)) == {"late": 1}
    assert _kinds() == ["late", "late"]  # one per channel
    for minute in (71, 72, 90):
        lateness.sweep(T0 + timedelta(minutes=minute))
    assert _kinds() == ["late", "late"], "no second alert while it stays late"
    outage = HeartbeatOutage.objects.get()
    assert outage.cause == "late" and outage.started_at == T0 + timedelta(minutes=70) and outage.told == 2
    assert "No ping from Nightly backup since Mon 30 Nov 12:00 GMT" in outage.detail
    subject = _emails()
    assert subject == [f"[Launch Ready] Late: Nightly backup · {tenant.client.name}"]

    _ping(heartbeat, "success", T0 + timedelta(minutes=95))
    assert lateness.sweep(T0 + timedelta(minutes=95, seconds=15)) == {"back": 1}
    lateness.sweep(T0 + timedelta(minutes=96))
    lateness.sweep(T0 + timedelta(minutes=97))
    assert _kinds() == ["job_back", "job_back", "late", "late"]
    outage.refresh_from_db()
    assert outage.ended_at == T0 + timedelta(minutes=95) and "after 25 min late" in outage.end_detail
    assert _emails() == [f"[Launch Ready] Running again: Nightly backup · {tenant.client.name}"]
    assert mail.outbox[0].body.count("Nightly backup pinged successfully") == 1
    # Late again later: a new outage, alerted once more.
    assert lateness.sweep(T0 + timedelta(minutes=95 + 70)) == {"late": 1}
    assert HeartbeatOutage.objects.count() == 2


@pytest.mark.django_db
def test_cron_in_new_york_is_late_after_its_local_time_plus_grace(tenant: Tenant) -> None:
    tenant.client.timezone = "America/New_York"
    tenant.client.save(update_fields=["timezone"])
    _channels(tenant)
    heartbeat = _heartbeat(tenant, schedule="cron", cron="0 3 * * *", grace_minutes=30)
    _ping(heartbeat, "success", datetime(2026, 10, 31, 7, 0, tzinfo=UTC))  # 03:00 EDT
    # The clocks went back overnight: 03:00 EST is 08:00 UTC, late from 08:30 UTC.
    assert lateness.sweep(datetime(2026, 11, 1, 8, 29, tzinfo=UTC)) == {}
    assert lateness.sweep(datetime(2026, 11, 1, 8, 30, tzinfo=UTC)) == {"late": 1}
    detail = HeartbeatOutage.objects.get().detail
    assert "since Sat 31 Oct 03:00 EDT" in detail and "expected by Sun 1 Nov 03:00 EST" in detail


@pytest.mark.django_db
def test_a_reported_failure_alerts_once_with_its_output(tenant: Tenant) -> None:
    _channels(tenant)
    heartbeat = _heartbeat(tenant)
    _ping(heartbeat, "start", T0)
    _ping(heartbeat, "fail", T0 + timedelta(minutes=2), "pg_dump: error: connection refused\nexit 1")
    assert lateness.sweep(T0 + timedelta(minutes=2, seconds=10)) == {"failed": 1}
    outage = HeartbeatOutage.objects.get()
    assert outage.detail.endswith("pg_dump: error: connection refused exit 1")
    _ping(heartbeat, "fail", T0 + timedelta(minutes=30), "again")  # still failing: no new alert
    lateness.sweep(T0 + timedelta(minutes=31))
    lateness.sweep(T0 + timedelta(minutes=200))  # late as well by now: still the same outage
    assert _kinds() == ["job_fail", "job_fail"]
    assert _emails() == [f"[Launch Ready] Failed: Nightly backup · {tenant.client.name}"]
    assert "Cause seen: Failed" in mail.outbox[0].body
    webhook = Alert.objects.get(channel__kind="webhook", kind="job_fail")
    facts = alert_message(webhook).facts()
    assert facts["cause"] == "Failed"
    assert facts["started_at"] == (T0 + timedelta(minutes=2)).isoformat() and facts["url"] is None
    _ping(heartbeat, "success", T0 + timedelta(minutes=210))
    assert lateness.sweep(T0 + timedelta(minutes=210, seconds=5)) == {"back": 1}
    assert _kinds() == ["job_back", "job_back", "job_fail", "job_fail"]


@pytest.mark.django_db
def test_a_failure_followed_by_a_success_before_the_sweep_is_still_told(tenant: Tenant) -> None:
    _channels(tenant)
    heartbeat = _heartbeat(tenant)
    _ping(heartbeat, "fail", T0, "timeout talking to Stripe")
    _ping(heartbeat, "success", T0 + timedelta(seconds=5))  # the retry worked
    assert lateness.sweep(T0 + timedelta(seconds=10)) == {"failed": 1}
    assert _kinds() == ["job_back", "job_back", "job_fail", "job_fail"]
    outage = HeartbeatOutage.objects.get()
    assert outage.ended_at == T0 + timedelta(seconds=5) and "after 5 s failing" in outage.end_detail
    assert Heartbeat.objects.get().alerted == "up"
    assert lateness.sweep(T0 + timedelta(seconds=30)) == {}


@pytest.mark.django_db
def test_a_run_that_never_finishes_is_told_as_such(tenant: Tenant) -> None:
    _channels(tenant)
    heartbeat = _heartbeat(tenant, period_minutes=1440, grace_minutes=45)
    _ping(heartbeat, "success", T0)
    _ping(heartbeat, "start", T0 + timedelta(hours=24))
    assert lateness.sweep(T0 + timedelta(hours=24, minutes=44)) == {}
    assert lateness.sweep(T0 + timedelta(hours=24, minutes=45)) == {"stuck": 1}
    assert "started at Tue 1 Dec 12:00 GMT and has not said it finished within its 45 min grace" in (
        HeartbeatOutage.objects.get().detail
    )


@pytest.mark.django_db
def test_a_stale_read_cannot_claim_twice(tenant: Tenant) -> None:
    """Two workers read the same late heartbeat: the first claims it, the second's conditional update misses."""
    _channels(tenant)
    heartbeat = _heartbeat(tenant)
    _ping(heartbeat, "success", T0)
    now = T0 + timedelta(minutes=75)
    first, second = (Heartbeat.objects.select_related("client").get(pk=heartbeat.pk) for _ in range(2))
    assert lateness._look_at(first, now) == "late"
    assert lateness._look_at(second, now) == "raced"
    assert _kinds() == ["late", "late"] and HeartbeatOutage.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_sweeps_running_at_once_alert_once() -> None:
    tenant = make_tenant()
    _channels(tenant)
    heartbeats = [_heartbeat(tenant, name=f"Job {n}") for n in range(5)]
    for heartbeat in heartbeats:
        _ping(heartbeat, "success", T0)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            lateness.sweep(T0 + timedelta(minutes=75))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert HeartbeatOutage.objects.count() == 5
    assert Alert.objects.filter(kind="late").count() == 10  # five heartbeats, two channels, once each


@pytest.mark.django_db
def test_the_clients_maintenance_holds_the_alert_until_it_ends(tenant: Tenant) -> None:
    _channels(tenant)
    heartbeat = _heartbeat(tenant)
    _ping(heartbeat, "success", T0)
    MaintenanceWindow.objects.create(
        client=tenant.client, starts_at=T0 + timedelta(minutes=60), ends_at=T0 + timedelta(minutes=120)
    )
    assert lateness.sweep(T0 + timedelta(minutes=80)) == {"held": 1}
    assert not Alert.objects.exists()
    assert lateness.sweep(T0 + timedelta(minutes=121)) == {"late": 1}  # still late when the window closed


@pytest.mark.django_db
def test_a_route_monitors_maintenance_window_does_not_hold_heartbeats(tenant: Tenant) -> None:
    _channels(tenant)
    monitor = Monitor.objects.create(client=tenant.client, route=tenant.route, url=tenant.route.url)
    MaintenanceWindow.objects.create(
        client=tenant.client, monitor=monitor, starts_at=T0, ends_at=T0 + timedelta(hours=5)
    )
    heartbeat = _heartbeat(tenant)
    _ping(heartbeat, "success", T0)
    assert lateness.sweep(T0 + timedelta(minutes=75)) == {"late": 1}


@pytest.mark.django_db
def test_never_pinged_and_paused_heartbeats_stay_quiet(tenant: Tenant) -> None:
    _channels(tenant)
    _heartbeat(tenant, name="Not wired yet")
    paused = _heartbeat(tenant, name="Paused one")
    _ping(paused, "success", T0)
    lateness.pause(paused, T0 + timedelta(minutes=1))
    assert lateness.sweep(T0 + timedelta(days=3)) == {}
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_pausing_ends_an_outage_quietly_and_resuming_counts_from_then(tenant: Tenant) -> None:
    _channels(tenant)
    heartbeat = _heartbeat(tenant)
    _ping(heartbeat, "success", T0)
    lateness.sweep(T0 + timedelta(minutes=75))
    lateness.pause(heartbeat, T0 + timedelta(minutes=80))
    outage = HeartbeatOutage.objects.get()
    assert outage.ended_at == T0 + timedelta(minutes=80) and outage.end_detail.startswith("Paused")
    lateness.resume(heartbeat, T0 + timedelta(days=2))
    assert lateness.sweep(T0 + timedelta(days=2, minutes=69)) == {"fine": 1}
    assert lateness.sweep(T0 + timedelta(days=2, minutes=71)) == {"late": 1}
    assert _kinds() == ["late", "late", "late", "late"]  # no return told for the paused outage


@pytest.mark.django_db
def test_with_no_channel_the_outage_says_nobody_was_told(tenant: Tenant) -> None:
    heartbeat = _heartbeat(tenant)
    _ping(heartbeat, "success", T0)
    assert lateness.sweep(T0 + timedelta(minutes=75)) == {"late": 1}
    assert HeartbeatOutage.objects.get().told == 0 and not Alert.objects.exists()


@pytest.mark.django_db
def test_a_late_alert_names_the_deploy_since_its_last_ping(tenant: Tenant) -> None:
    heartbeat = _heartbeat(tenant)
    _ping(heartbeat, "success", T0)
    Deploy.objects.create(client=tenant.client, version="v2.4.0", created=T0 + timedelta(minutes=20))
    lateness.sweep(T0 + timedelta(minutes=75))
    assert "The production deploy v2.4.0 came since its last ping." in HeartbeatOutage.objects.get().detail


@pytest.mark.django_db
def test_a_hostile_name_stays_text_in_the_alert(tenant: Tenant) -> None:
    _channels(tenant)
    heartbeat = _heartbeat(tenant, name=fitted(100))
    _ping(heartbeat, "fail", T0, SCRIPT)
    lateness.sweep(T0 + timedelta(seconds=5))
    assert _emails()
    message = mail.outbox[0]
    assert "\n" not in message.subject and not text_problems(message.subject) and MARKER in message.subject
    assert not text_problems(message.body) and SCRIPT in message.body
    html = message.alternatives[0][0]  # type: ignore[attr-defined]
    assert MARKER in html and not markup_problems(html)


@pytest.mark.django_db
def test_the_beats_task_sweeps_and_settles_the_deploys_checks(tenant: Tenant) -> None:
    heartbeat = _heartbeat(tenant)
    _ping(heartbeat, "success", T0)  # long ago: late now
    assert monitoring_heartbeats() == {"late": 1, "job_checks": 0}
    assert monitoring_heartbeats() == {"job_checks": 0}


@pytest.mark.django_db
def test_a_new_time_zone_moves_a_cron_heartbeats_lateness(tenant: Tenant) -> None:
    heartbeat = _heartbeat(tenant, schedule="cron", cron="0 3 * * *", grace_minutes=30)
    _ping(heartbeat, "success", datetime(2026, 11, 30, 3, 0, tzinfo=UTC))  # 03:00 in London
    assert Heartbeat.objects.get().due_at == datetime(2026, 12, 1, 3, 30, tzinfo=UTC)
    tenant.client.timezone = "Asia/Tokyo"  # 03:00 there is 18:00 UTC the day before
    tenant.client.save(update_fields=["timezone"])
    assert lateness.sweep(datetime(2026, 11, 30, 19, 0, tzinfo=UTC)) == {"late": 1}
