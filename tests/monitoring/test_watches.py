"""Watches on the sandbox: certificate expiry at 14 and 3 days, DNS and email-authentication drift from the
approved baseline, a p95 regression after a deploy; each event alerts once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from launchready.sandbox.runner import Sandbox
from monitoring.models import Alert, AlertChannel, Deploy, Monitor, Probe, Rollup, WatchEvent
from monitoring.rollup import hour_start
from monitoring.watches import baseline_approve, watch_certificates, watch_drift, watch_p95
from tests.conftest import Tenant
from tests.factories import DomainFactory, RouteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(tenant: Tenant) -> AlertChannel:
    return AlertChannel.objects.create(client=tenant.client, kind="email", name="Team", recipients=["ops@example.com"])


def _monitor(tenant: Tenant, url: str) -> Monitor:
    route = RouteFactory(domain=tenant.domain)
    return Monitor.objects.create(client=tenant.client, route=route, url=url)


def test_a_certificate_expiring_within_14_days_alerts_once(sandbox_env: Sandbox, tenant: Tenant, channel) -> None:  # type: ignore[no-untyped-def]
    _monitor(tenant, "https://www.expiring-cert.test/")
    _monitor(tenant, "https://www.launch-ready.test/")
    assert watch_certificates() == 1
    assert watch_certificates() == 0  # seen again: the same event
    event = WatchEvent.objects.get()
    assert event.kind == "cert_expiry" and "www.expiring-cert.test" in event.title
    assert Alert.objects.filter(kind="watch").count() == 1
    assert watch_certificates(timezone.now() + timedelta(days=8)) == 1  # the 3-day step


def test_drift_from_the_approved_baseline_is_split_into_dns_and_email(
    sandbox_env: Sandbox, tenant: Tenant, channel
) -> None:  # type: ignore[no-untyped-def]
    domain = DomainFactory(client=tenant.client, name="launch-ready.test")
    inventory = [
        {"name": "www.launch-ready.test", "type": "A", "value": "127.0.0.99", "ttl": 300},  # not what is served
        {"name": "_dmarc.launch-ready.test", "type": "TXT", "value": "v=DMARC1; p=reject", "ttl": 300},
        {"name": "launch-ready.test", "type": "MX", "value": "1 smtp.google.com", "ttl": 300},
    ]
    baseline_approve(domain=domain, inventory=inventory, user=tenant.consultant)
    assert watch_drift() == 2
    kinds = dict(WatchEvent.objects.values_list("kind", "detail"))
    assert "www.launch-ready.test A 127.0.0.99" in kinds["dns_drift"]["removed"]
    assert any(
        r.startswith("_dmarc.launch-ready.test TXT v=DMARC1; p=quarantine") for r in kinds["email_drift"]["added"]
    )
    assert watch_drift() == 0


def test_a_route_whose_p95_doubles_after_a_deploy_is_reported(tenant: Tenant, channel) -> None:  # type: ignore[no-untyped-def]
    monitor = _monitor(tenant, "https://app.example.com/login")
    now = timezone.now()
    deploy = Deploy.objects.create(client=tenant.client, version="v2")
    Deploy.objects.filter(pk=deploy.pk).update(created=now - timedelta(hours=3))
    deploy.refresh_from_db()
    for hours_before in range(1, 24):
        Rollup.objects.create(
            monitor=monitor,
            period="hour",
            start=hour_start(deploy.created) - timedelta(hours=hours_before),
            probes=60,
            histogram=[0, 0, 0, 0, 0, 0, 60],
        )  # ~100 ms
    Probe.objects.bulk_create(
        [Probe(monitor=monitor, at=deploy.created + timedelta(minutes=i), ok=True, latency_ms=450) for i in range(30)]
    )
    assert watch_p95(now) == 1
    event = WatchEvent.objects.get()
    assert event.kind == "p95_regression" and event.detail == {"p95 before": "100 ms", "p95 after": "450 ms"}
    assert watch_p95(now) == 0
