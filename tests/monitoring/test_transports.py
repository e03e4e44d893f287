"""Transports: every kind of alert has its subject template; a permanent error switches a dead channel off
at once where a transient one is retried; the test button's message goes through the channel's own
transport; every send records its error and how long it took."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone

from launchready.sandbox.runner import Sandbox
from monitoring.delivery import alert_send
from monitoring.messages import TEST_DETAIL, alert_message, channel_test_message
from monitoring.models import Alert, AlertChannel, Incident, Monitor
from monitoring.transports import TRANSPORTS
from tests.conftest import Tenant, login
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db

GONE = "https://api.launch-ready.test/hooks/gone"  # the sandbox answers 404 there


def test_it_has_a_subject_template_for_every_kind_of_alert() -> None:
    for kind in Alert.Kind.values:
        assert get_template(f"monitoring/alert-{kind}-subject.txt"), kind


def test_it_has_a_transport_for_every_kind_of_channel() -> None:
    assert set(TRANSPORTS) == set(AlertChannel.Kind.values)


def test_it_words_each_subject_from_the_template_of_its_kind(tenant: Tenant) -> None:
    channel = AlertChannel.objects.create(client=tenant.client, kind="email", name="Team", recipients=["a@b.co"])
    monitor = Monitor.objects.create(client=tenant.client, route=tenant.route, url=tenant.route.url)
    incident = Incident.objects.create(monitor=monitor, started_at=timezone.now())
    url = monitor.url
    cases = [
        (Alert.Kind.DOWN, incident, {}, f"DOWN: {url}"),
        (Alert.Kind.DOWN, incident, {"still_down": True}, f"Still down: {url}"),
        (Alert.Kind.UP, incident, {}, f"Recovered: {url}"),
        (Alert.Kind.REMINDER, incident, {}, f"Still down: {url}"),
        (Alert.Kind.DEPLOY, None, {"deploy": "v2.0.1"}, "Smoke test failed after deploy v2.0.1"),
        (Alert.Kind.WATCH, None, {"title": "DNS records of shop.test changed"}, "DNS records of shop.test changed"),
        (Alert.Kind.FLAPPING, None, {"url": url}, f"Flapping: {url}"),
    ]
    for kind, about, payload, subject in cases:
        alert = Alert(channel=channel, client=tenant.client, incident=about, kind=kind, payload=payload)
        assert alert_message(alert).subject == subject, (kind, payload)
    assert channel_test_message(channel).subject == f"Test alert for {tenant.client.name}"


def test_it_folds_a_subject_onto_one_line_and_leaves_it_unescaped(tenant: Tenant) -> None:
    tenant.client.name = "Ghost\r\n& Co"
    tenant.client.save()
    channel = AlertChannel.objects.create(client=tenant.client, kind="email", name="Team", recipients=["a@b.co"])
    assert channel_test_message(channel).subject == "Test alert for Ghost & Co"


def test_it_switches_a_webhook_off_at_once_when_its_endpoint_is_gone(sandbox_env: Sandbox, tenant: Tenant) -> None:
    gone = AlertChannel(client=tenant.client, kind="webhook", name="Gone")
    gone.config = {"url": GONE, "signing_secret": "x"}
    gone.save()
    alert = Alert.objects.create(channel=gone, kind=Alert.Kind.TEST)
    assert alert_send(alert_id=alert.id) == "failed"  # permanent: no retry
    gone.refresh_from_db()
    alert.refresh_from_db()
    assert (alert.state, alert.attempts, alert.error) == ("failed", 1, "the endpoint answered 404")
    assert not gone.enabled and gone.disabled_reason == "the endpoint answered 404"
    assert gone.last_error == "the endpoint answered 404" and gone.last_duration_ms is not None


def test_it_switches_off_an_email_channel_with_nobody_to_email() -> None:
    channel = AlertChannel.objects.create(workspace=WorkspaceFactory(), kind="email", name="Nobody")
    alert = Alert.objects.create(channel=channel, kind=Alert.Kind.TEST)
    assert alert_send(alert_id=alert.id) == "failed"
    channel.refresh_from_db()
    assert not channel.enabled and channel.disabled_reason.startswith("nobody to email")
    assert not mail.outbox


def test_it_sends_the_test_button_s_message_through_the_channel_s_transport(
    tenant: Tenant, eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    channel = AlertChannel.objects.create(client=tenant.client, kind="email", name="Founders", recipients=["a@b.co"])
    with django_capture_on_commit_callbacks(execute=True):
        login(tenant.consultant).post(reverse("alert_channel_test", args=[channel.code]))
    [message] = mail.outbox
    assert message.subject == f"[Launch Ready] Test alert for {tenant.client.name}"
    assert TEST_DETAIL in message.body and message.to == ["a@b.co"]
    assert Alert.objects.get(channel=channel).state == "sent"
    channel.refresh_from_db()
    assert channel.last_sent_at is not None and channel.last_duration_ms is not None and channel.last_error == ""
