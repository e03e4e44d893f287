"""Who hears of an outage: a client without a channel is told of nobody (and the timeline says so), a
channel added later hears of every outage still open exactly once, and a workspace default channel speaks
for the clients without a channel of their own; the dashboard and the overview flag those nobody hears."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from launchready.models import Route
from launchready.sandbox.runner import Sandbox
from launchready.sandbox.smtp import SmtpSink
from monitoring.alerts import open_incidents_to, routed_channels, unreachable_clients
from monitoring.models import Alert, AlertChannel, Incident, IncidentEvent, Monitor
from monitoring.scheduler import claim_due, probe_round, record
from tests.conftest import Tenant, login, make_tenant, wait_until
from tests.factories import ClientFactory, DomainFactory

FAILING = "https://app.login-500.test/login"  # the sandbox answers 500 there
HEALTHY_URL = "https://app.launch-ready.test/login"


def _down_monitors(tenant: Tenant, count: int) -> list[Monitor]:
    domain = DomainFactory(client=tenant.client, name=f"shop-{tenant.client.id}.test")
    monitors = []
    for n in range(count):
        route = Route.objects.create(
            domain=domain, host="app", path=f"/p{n}", kind=Route.Kind.LOGIN, expected_statuses=[200]
        )
        monitors.append(Monitor.objects.create(client=tenant.client, route=route, url=FAILING, expected_statuses=[200]))
    return monitors


def _rounds(sandbox: Sandbox, start: timezone.datetime, minutes: range) -> None:  # type: ignore[name-defined]
    for minute in minutes:
        at = start + timedelta(minutes=minute)
        monitors = claim_due(at)
        record(monitors, asyncio.run(probe_round(monitors, sandbox.net_config())), at)


@pytest.mark.django_db
def test_an_outage_nobody_hears_of_says_nobody_was_told(world_sandbox: Sandbox, tenant: Tenant) -> None:
    _down_monitors(tenant, 1)
    _rounds(world_sandbox, timezone.now(), range(3))
    incident = Incident.objects.get()
    assert list(incident.events.values_list("kind", flat=True)) == [
        IncidentEvent.Kind.FIRST_FAILURE,
        IncidentEvent.Kind.OPENED,
        IncidentEvent.Kind.NO_CHANNEL,
    ]
    assert not Alert.objects.exists()
    page = login(tenant.consultant).get(reverse("client_monitoring", args=[tenant.client.code])).content.decode()
    assert "Marked down · 2 failures in a row" in page
    assert "No channel: nobody was told" in page and "Alert raised" not in page
    assert (
        "No channel: nobody was told"
        in login(tenant.founder).get(reverse("client_monitoring", args=[tenant.client.code])).content.decode()
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_channel_added_later_hears_of_each_open_outage_once(
    sandbox_env: Sandbox, smtp_sink: SmtpSink, worker
) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    monitors = _down_monitors(tenant, 3)
    start = timezone.now()
    _rounds(sandbox_env, start, range(2))
    assert Incident.objects.filter(ended_at__isnull=True).count() == 3 and not Alert.objects.exists()

    http = login(tenant.consultant)
    page = http.post(
        reverse("alert_channels", args=[tenant.client.code]),
        {"kind": "email", "name": "Founders", "recipients": "amelia@example.com"},
        follow=True,
    ).content.decode()
    assert "3 outages still open sent to it" in page
    messages = smtp_sink.wait_for(3)
    assert wait_until(lambda: Alert.objects.filter(state="sent").count() == 3)
    assert sorted(m["Subject"] for m in messages) == [f"[Launch Ready] Still down: {FAILING}"] * 3
    assert all("before this channel was added" in m.get_body(("plain",)).get_content() for m in messages)

    channel = AlertChannel.objects.get()
    assert open_incidents_to(channel) == []  # asked again (a double click, a re-enable): nothing new
    http.post(reverse("alert_channel_toggle", args=[channel.code]))
    http.post(reverse("alert_channel_toggle", args=[channel.code]))
    _rounds(sandbox_env, start, range(2, 3))  # the third failure raises nothing new either
    assert Alert.objects.count() == 3

    for monitor in monitors:  # they recover: the channel is told of that the usual way
        Monitor.objects.filter(pk=monitor.pk).update(url=HEALTHY_URL)
    _rounds(sandbox_env, start, range(3, 5))
    smtp_sink.wait_for(6)
    assert wait_until(lambda: Alert.objects.filter(state="sent").count() == 6)
    assert sorted(m["Subject"].split(":")[0] for m in smtp_sink.messages).count("[Launch Ready] Recovered") == 3
    assert len(smtp_sink.messages) == 6
    incident = Incident.objects.filter(monitor=monitors[0]).get()
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds.count(IncidentEvent.Kind.NO_CHANNEL) == 1 and kinds.count(IncidentEvent.Kind.ALERT_SENT) == 2


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_workspace_default_channel_speaks_for_the_clients_without_their_own(
    sandbox_env: Sandbox, smtp_sink: SmtpSink, worker
) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant()
    covered = make_tenant()  # another workspace's client, and one of ours with its own channel
    ours = ClientFactory(workspace=tenant.client.workspace)
    AlertChannel.objects.create(client=ours, kind="email", name="Own", recipients=["own@example.com"])
    _down_monitors(tenant, 1)
    _down_monitors(covered, 1)
    start = timezone.now()
    _rounds(sandbox_env, start, range(2))

    page = login(tenant.owner).post(
        reverse("workspace_alert_channels"), {"kind": "email", "name": "Everyone", "recipients": ""}, follow=True
    )
    assert "1 outage still open sent to it" in page.content.decode()
    default = AlertChannel.objects.get(name="Everyone")
    assert default.client is None and default.workspace == tenant.client.workspace
    assert routed_channels(tenant.client.id) == [default] and [c.name for c in routed_channels(ours.id)] == ["Own"]
    assert routed_channels(covered.client.id) == []  # another workspace's default is not theirs

    (message,) = smtp_sink.wait_for(1)
    assert message["Subject"] == f"[Launch Ready] Still down: {FAILING}"
    body = message.get_body(("plain",)).get_content()
    assert tenant.client.name in body and str(tenant.client.code) in body  # about the client, linked to it
    recipients = smtp_sink.envelopes[0][1]
    assert sorted(recipients) == sorted([tenant.owner.email, tenant.consultant.email, tenant.founder.email])
    assert wait_until(lambda: Alert.objects.filter(channel=default, state="sent").count() == 1)
    assert Alert.objects.get(channel=default).client == tenant.client


@pytest.mark.django_db
def test_the_default_channel_page_keeps_its_secret_and_asks_for_the_password(tenant: Tenant) -> None:
    url = reverse("workspace_alert_channels")
    stale = login(tenant.consultant, authenticated_ago=3600)
    assert stale.get(url)["Location"].startswith(reverse("account_reauthenticate"))
    assert login(tenant.founder).get(url).status_code == 404
    http = login(tenant.consultant)
    page = http.post(url, {"kind": "webhook", "name": "Ops", "url": "https://hooks.example.com/abc"}, follow=True)
    channel = AlertChannel.objects.get(name="Ops")
    assert "Signing secret for Ops (shown once): whsec_" in page.content.decode()
    stored = AlertChannel.objects.values_list("secret", flat=True).get(pk=channel.pk)
    assert "hooks.example.com" not in stored and channel.config["signing_secret"] not in stored
    assert channel.config["signing_secret"] not in http.get(url).content.decode()
    http.post(reverse("alert_channel_test", args=[channel.code]))
    assert Alert.objects.filter(channel=channel, kind="test", client__isnull=True).exists()
    toggled = http.post(reverse("alert_channel_toggle", args=[channel.code]))
    assert toggled["Location"] == url
    channel.refresh_from_db()
    assert not channel.enabled


@pytest.mark.django_db
def test_another_workspace_cannot_reach_a_default_channel(tenant: Tenant, other_tenant: Tenant) -> None:
    channel = AlertChannel.objects.create(workspace=tenant.client.workspace, kind="email", name="Everyone")
    for user in (other_tenant.owner, other_tenant.consultant, tenant.founder):
        http = login(user)
        for name in ("alert_channel_test", "alert_channel_toggle"):
            assert http.post(reverse(name, args=[channel.code])).status_code == 404, (user, name)
    assert not Alert.objects.exists()
    assert login(other_tenant.owner).get(reverse("workspace_alert_channels")).content.decode().count("Everyone") == 0


@pytest.mark.django_db
def test_the_dashboard_and_the_overview_flag_clients_nobody_hears(tenant: Tenant) -> None:
    heard = ClientFactory(workspace=tenant.client.workspace)
    AlertChannel.objects.create(client=heard, kind="email", name="Own")
    for client in (tenant.client, heard):
        route = Route.objects.create(
            domain=DomainFactory(client=client), path="/", kind=Route.Kind.HOMEPAGE, expected_statuses=[200]
        )
        Monitor.objects.create(client=client, route=route, url=route.url, expected_statuses=[200])
    http = login(tenant.consultant)
    flag = "No alert channel: outages reach nobody"
    link = reverse("alert_channels", args=[tenant.client.code])
    for page in (http.get(reverse("dashboard")), http.get(reverse("monitoring_overview"))):
        text = page.content.decode()
        assert text.count(flag) == 1 and f'href="{link}"' in text
    assert unreachable_clients([tenant.client, heard]) == {tenant.client.id}

    AlertChannel.objects.create(workspace=tenant.client.workspace, kind="email", name="Everyone")
    for page in (http.get(reverse("dashboard")), http.get(reverse("monitoring_overview"))):
        assert flag not in page.content.decode()
    assert unreachable_clients([tenant.client, heard]) == set()


@pytest.mark.django_db
def test_a_disabled_channel_hears_nothing_and_the_flag_returns(tenant: Tenant) -> None:
    own = AlertChannel.objects.create(client=tenant.client, kind="email", name="Own", enabled=False)
    assert routed_channels(tenant.client.id) == []
    assert unreachable_clients([tenant.client]) == {tenant.client.id}
    default = AlertChannel.objects.create(workspace=tenant.client.workspace, kind="email", name="Everyone")
    assert routed_channels(tenant.client.id) == [default]  # a disabled own channel does not silence the default
    AlertChannel.objects.filter(pk=own.pk).update(enabled=True)
    assert routed_channels(tenant.client.id) == [own]


@pytest.mark.django_db
def test_the_channel_that_heard_of_an_outage_hears_of_its_recovery(world_sandbox: Sandbox, tenant: Tenant) -> None:
    default = AlertChannel.objects.create(workspace=tenant.client.workspace, kind="email", name="Everyone")
    (monitor,) = _down_monitors(tenant, 1)
    start = timezone.now()
    _rounds(world_sandbox, start, range(2))
    own = AlertChannel.objects.create(client=tenant.client, kind="email", name="Own")  # from now on, alerts go here
    Monitor.objects.filter(pk=monitor.pk).update(url=HEALTHY_URL)
    _rounds(world_sandbox, start, range(2, 4))
    sent = sorted(Alert.objects.values_list("channel__name", "kind"))
    assert sent == [("Everyone", "down"), ("Everyone", "up"), ("Own", "up")]
    assert default.alerts.get(kind="up").client == tenant.client and own.alerts.count() == 1
