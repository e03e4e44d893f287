"""Faults with the real broker and a real worker: monitors claimed by a worker that died are probed by
another worker once the claims expire, and nothing is probed twice."""

from __future__ import annotations

import os

import pytest
from django.test import override_settings
from django.utils import timezone

from launchready.models import Route
from launchready.sandbox.runner import Sandbox
from monitoring.models import Monitor, Probe
from monitoring.scheduler import claim_due
from monitoring.tasks import monitoring_tick
from tests.conftest import make_tenant, wait_until
from tests.factories import DomainFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def short_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORING_LEASE_SECONDS", "3")  # read by the worker started after this


@override_settings(MONITORING_LEASE_SECONDS=3)
def test_monitors_held_by_a_dead_worker_are_probed_by_another(short_lease, sandbox_env: Sandbox, worker) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    tenant.domain.delete()  # only the two monitors below
    domain = DomainFactory(client=tenant.client, name="launch-ready.test")
    for path in ("/login", "/dashboard"):
        route = Route.objects.create(
            domain=domain, host="app", path=path, kind=Route.Kind.LOGIN, expected_statuses=[200, 302]
        )
        Monitor.objects.create(client=tenant.client, route=route, url=route.url, expected_statuses=[200, 302])
    held = claim_due(timezone.now())  # a worker claims them ... and dies before probing
    assert len(held) == 2
    assert os.environ["MONITORING_LEASE_SECONDS"] == "3"
    probed = wait_until(lambda: monitoring_tick.delay() is not None and Probe.objects.count() >= 2, timeout=40)
    assert probed, "another worker probes the monitors once the dead worker's claims expire"
    assert Probe.objects.count() == 2  # each once
    assert set(Monitor.objects.values_list("state", flat=True)) == {"up"}


def test_alerts_whose_task_was_lost_with_the_broker_queue_are_sent_once(smtp_sink, worker) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from monitoring.models import Alert, AlertChannel
    from monitoring.requeue import requeue_lost_alerts

    tenant = make_tenant()
    channel = AlertChannel.objects.create(
        client=tenant.client, kind="email", name="Team", recipients=["ops@example.com"]
    )
    # Queued, and its task lost: Redis restarted without keeping its queue (it keeps nothing on disk here).
    alert = Alert.objects.create(channel=channel, kind=Alert.Kind.TEST, dedupe_key="lost:1")
    later = timezone.now() + timedelta(minutes=3)
    assert requeue_lost_alerts(later) == 1
    assert requeue_lost_alerts(later) == 1  # a second sweep before the worker got to it: queued twice
    messages = smtp_sink.wait_for(1, timeout=30)
    assert wait_until(lambda: Alert.objects.get(pk=alert.pk).state == "sent", timeout=30)
    assert wait_until(_worker_idle, timeout=30)  # the duplicate task has run too

    assert (
        len(smtp_sink.messages) == 1 and messages[0]["Subject"] == f"[Launch Ready] Test alert for {tenant.client.name}"
    )
    assert requeue_lost_alerts(later) == 0


def _worker_idle() -> bool:
    """No task waiting in the broker and none running on the worker."""
    from launchready.celery import app

    with app.connection_for_read() as conn:
        waiting = conn.default_channel.client.llen("celery")
    active = app.control.inspect(timeout=0.5).active() or {}
    return waiting == 0 and all(not tasks for tasks in active.values())
