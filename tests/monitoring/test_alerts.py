"""Alerts: an outage in the sandbox raises exactly one alert per channel after two failures and one
recovery after two successes, delivered by a real worker to the SMTP sink and the webhook receiver;
a claimed alert is never sent twice; a failing channel is retried a bounded number of times."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone

from launchready.crypto import decrypt
from launchready.models import Route
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.smtp import SmtpSink
from monitoring.delivery import alert_send
from monitoring.models import Alert, AlertChannel, Incident, IncidentEvent, Monitor
from monitoring.scheduler import claim_due, probe_round, record
from tests.conftest import Tenant, make_tenant, wait_until
from tests.factories import DomainFactory

RECEIVER = "https://api.launch-ready.test/health"  # a sandbox endpoint that answers 200 to anything
SIGNING = "whsec-test-signing-secret"


def _channels(tenant: Tenant) -> None:
    AlertChannel.objects.create(client=tenant.client, kind="email", name="Founders", recipients=["amelia@example.com"])
    webhook = AlertChannel(client=tenant.client, kind="webhook", name="Ops webhook")
    webhook.config = {"url": RECEIVER, "signing_secret": SIGNING}
    webhook.save()
    slack = AlertChannel(client=tenant.client, kind="slack", name="#launch")
    slack.config = {"url": RECEIVER + "?slack"}
    slack.save()


def _round(sandbox: Sandbox, at: timezone.datetime) -> None:  # type: ignore[name-defined]
    monitors = claim_due(at)
    record(monitors, __import__("asyncio").run(probe_round(monitors, sandbox.net_config())), at)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_outage_raises_one_alert_per_channel_and_one_recovery(
    sandbox_env: Sandbox, smtp_sink: SmtpSink, worker
) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    _channels(tenant)
    domain = DomainFactory(client=tenant.client, name="launch-ready.test")
    route = Route.objects.create(
        domain=domain, host="app", path="/login", kind=Route.Kind.LOGIN, expected_statuses=[200]
    )
    monitor = Monitor.objects.create(
        client=tenant.client, route=route, url="https://app.login-500.test/login", expected_statuses=[200]
    )
    received_before = len(sandbox_env.web.received)  # type: ignore[union-attr]
    start = timezone.now()
    for minute in range(3):  # three failures: down after the second, no second alert on the third
        _round(sandbox_env, start + timedelta(minutes=minute))
    Monitor.objects.filter(pk=monitor.pk).update(url="https://app.launch-ready.test/login")
    for minute in range(3, 6):
        _round(sandbox_env, start + timedelta(minutes=minute))

    wait_until(lambda: Alert.objects.filter(state="sent").count() == 6)
    assert Alert.objects.filter(state="sent").count() == 6, list(Alert.objects.values_list("kind", "state", "error"))
    messages = smtp_sink.wait_for(2)
    assert sorted(m["Subject"].split(":")[0] for m in messages) == ["[Launch Ready] DOWN", "[Launch Ready] Recovered"]
    posts = sandbox_env.web.received[received_before:]  # type: ignore[union-attr]
    webhooks = [p for p in posts if "x-launchready-signature" in p["headers"]]
    slacks = [p for p in posts if p["path"].endswith("?slack")]
    assert [json.loads(p["body"])["event"] for p in webhooks] == ["down", "up"]
    for post in webhooks:
        expected = hmac.new(SIGNING.encode(), post["body"], hashlib.sha256).hexdigest()
        assert post["headers"]["x-launchready-signature"] == f"sha256={expected}"
    assert len(slacks) == 2 and "DOWN" in json.loads(slacks[0]["body"])["text"]
    incident = Incident.objects.get()
    assert incident.ended_at is not None
    assert incident.events.filter(kind=IncidentEvent.Kind.ALERT_SENT).count() == 6


@pytest.mark.django_db(transaction=True)
def test_a_claimed_alert_is_sent_once_even_when_two_workers_race(tenant: Tenant) -> None:
    channel = AlertChannel.objects.create(client=tenant.client, kind="email", name="Founders", recipients=["a@b.co"])
    alert = Alert.objects.create(channel=channel, kind=Alert.Kind.TEST)
    results: list[str] = []

    def worker_thread() -> None:
        try:
            results.append(alert_send(alert_id=alert.id))
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=worker_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["not pending"] * 3 + ["sent"]
    assert len(mail.outbox) == 1
    assert alert_send(alert_id=alert.id) == "not pending"  # a retried task after the channel answered
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failing_endpoint_is_retried_a_bounded_number_of_times_and_others_are_unaffected(
    world_sandbox: Sandbox, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in world_sandbox.env().items():
        monkeypatch.setenv(key, value)
    broken = AlertChannel(client=tenant.client, kind="webhook", name="Broken")
    broken.config = {"url": "https://app.login-500.test/login", "signing_secret": "x"}
    broken.save()
    email = AlertChannel.objects.create(client=tenant.client, kind="email", name="Founders", recipients=["a@b.co"])
    failing = Alert.objects.create(channel=broken, kind=Alert.Kind.TEST)
    working = Alert.objects.create(channel=email, kind=Alert.Kind.TEST)
    assert [alert_send(alert_id=failing.id) for _ in range(3)] == ["retry", "retry", "failed"]
    assert alert_send(alert_id=working.id) == "sent"
    broken.refresh_from_db()
    failing.refresh_from_db()
    assert failing.state == "failed" and failing.attempts == 3 and "500" in failing.error
    assert "answered 500" in broken.last_error and broken.enabled  # 3 failures: not yet disabled
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_channel_secrets_are_encrypted_at_rest(tenant: Tenant) -> None:
    channel = AlertChannel(client=tenant.client, kind="webhook", name="Ops")
    channel.config = {"url": "https://hooks.example.com/abc", "signing_secret": SIGNING}
    channel.save()
    stored = AlertChannel.objects.values_list("secret", flat=True).get(pk=channel.pk)
    assert SIGNING not in stored and "hooks.example.com" not in stored
    assert json.loads(decrypt(stored))["signing_secret"] == SIGNING


@pytest.mark.django_db
def test_the_channels_page_adds_a_webhook_and_shows_its_secret_once(tenant: Tenant) -> None:
    from django.urls import reverse

    from tests.conftest import login

    http = login(tenant.consultant)
    url = reverse("alert_channels", args=[tenant.client.code])
    bad = http.post(url, {"kind": "webhook", "name": "Ops", "url": "http://insecure.example.com/hook"})
    assert "Enter the https:// address" in bad.content.decode()
    page = http.post(url, {"kind": "webhook", "name": "Ops", "url": "https://hooks.example.com/abc"}, follow=True)
    text = page.content.decode()
    assert "Signing secret for Ops (shown once): whsec_" in text
    channel = AlertChannel.objects.get(name="Ops")
    assert channel.config["signing_secret"] in text
    again = http.get(url).content.decode()
    assert channel.config["signing_secret"] not in again
    http.post(reverse("alert_channel_test", args=[channel.code]))
    assert Alert.objects.filter(channel=channel, kind="test").exists()
    assert login(tenant.founder).get(url).status_code == 403


@pytest.mark.django_db
def test_a_hanging_endpoint_times_out_and_other_channels_still_send(sandbox_env: Sandbox, tenant: Tenant) -> None:
    hanging = AlertChannel(client=tenant.client, kind="webhook", name="Hangs")
    hanging.config = {"url": "https://www.hostile.test/", "signing_secret": "x"}  # the sandbox never answers there
    hanging.save()
    email = AlertChannel.objects.create(client=tenant.client, kind="email", name="Founders", recipients=["a@b.co"])
    stuck = Alert.objects.create(channel=hanging, kind=Alert.Kind.TEST, dedupe_key="t1")
    fine = Alert.objects.create(channel=email, kind=Alert.Kind.TEST, dedupe_key="t2")
    assert alert_send(alert_id=stuck.id) == "retry"
    assert alert_send(alert_id=fine.id) == "sent"
    stuck.refresh_from_db()
    hanging.refresh_from_db()
    assert stuck.state == "pending" and stuck.attempts == 1
    assert "timeout" in hanging.last_error and hanging.last_duration_ms < 15000
    assert len(mail.outbox) == 1
