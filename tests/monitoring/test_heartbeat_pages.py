"""Heartbeats on a client's monitoring page (state, last ping, next expected, run time, the ping URL and its
snippets), late and failing first, in a fixed number of queries; adding one (a cron expression checked),
editing one without losing the pings that came meanwhile, pausing, removing; founders read, never change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Heartbeat
from monitoring.pings import heartbeat_create, ping_token, ping_url, record_ping
from tests.conftest import Tenant, login

pytestmark = pytest.mark.django_db


def _page(http: HttpClient, tenant: Tenant) -> str:
    response = http.get(reverse("client_monitoring", args=[tenant.client.code]))
    assert response.status_code == 200
    return response.content.decode()


def _pinged(tenant: Tenant, name: str, kind: str, ago: timedelta, **fields: object) -> Heartbeat:
    heartbeat = heartbeat_create(client=tenant.client, name=name, **fields)
    record_ping(Heartbeat.objects.select_related("client").get(pk=heartbeat.pk), kind, "", timezone.now() - ago)
    return heartbeat


def test_the_page_shows_each_heartbeat_with_what_it_is_doing(tenant: Tenant) -> None:
    up = _pinged(tenant, "Invoice emails", "success", timedelta(minutes=5))
    Heartbeat.objects.filter(pk=up.pk).update(last_run_seconds=83)
    _pinged(tenant, "Nightly backup", "success", timedelta(hours=30), period_minutes=1440)
    _pinged(tenant, "Image resizer", "fail", timedelta(minutes=1))
    heartbeat_create(client=tenant.client, name="Not wired yet")
    paused = _pinged(tenant, "Old importer", "success", timedelta(days=9))
    Heartbeat.objects.filter(pk=paused.pk).update(paused=True)
    page = _page(login(tenant.consultant), tenant)
    assert page.count('class="monitor heartbeat"') == 5
    states = [s.split('"')[0] for s in page.split('data-heartbeat="')[1:]]
    assert states == ["failed", "late", "up", "never", "paused"]  # late and failing first
    assert 'badge-stop">Failed' in page and 'badge-stop">Late' in page and 'badge-warn">Never pinged' in page
    assert "Last run took: <strong>1 min</strong>" in page and "every 1 d, 10 min grace" in page
    assert "Last ping: <strong>5\xa0minutes ago (succeeded)</strong>" in page
    assert "Next expected: <strong>in 54\xa0minutes" in page  # an hour after the ping, five minutes ago
    url = ping_url(up)
    assert f'data-copy="{url}"' in page and f"{url}/start" in page and f"{url}/fail" in page
    assert reverse("heartbeat_add", args=[tenant.client.code]) in page


@pytest.mark.parametrize("count", [2, 12])
def test_the_page_stays_cheap_whatever_the_number_of_heartbeats(
    tenant: Tenant, count: int, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for n in range(count):
        _pinged(tenant, f"Job {n}", "success", timedelta(minutes=n))
    http = login(tenant.consultant)
    with django_assert_max_num_queries(14):
        page = _page(http, tenant)
    assert page.count('class="monitor heartbeat"') == count


def test_adding_a_cron_heartbeat(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    url = reverse("heartbeat_add", args=[tenant.client.code])
    form = http.get(url).content.decode()
    assert "read in Europe/London (the client&#x27;s time zone)" in form
    data = {"name": " Nightly   backup ", "kind": "cron", "schedule": "cron", "period_minutes": 60, "grace_minutes": 30}
    refused = http.post(url, {**data, "cron": "0 3 * *"})
    assert refused.status_code == 200 and "five fields" in refused.content.decode()
    refused = http.post(url, {**data, "cron": "0 25 * * *"})
    assert "Check each field&#x27;s range" in refused.content.decode()
    response = http.post(url, {**data, "cron": "0  3 * * *"})
    heartbeat = Heartbeat.objects.get(client=tenant.client)
    assert response.status_code == 302 and response["Location"] == reverse("heartbeat_edit", args=[heartbeat.code])
    assert heartbeat.name == "Nightly backup" and heartbeat.cron == "0 3 * * *" and heartbeat.grace_minutes == 30
    assert ping_token(heartbeat)
    again = http.post(url, {**data, "name": "nightly BACKUP", "cron": "0 4 * * *"})
    assert "Another heartbeat of this client has that name." in again.content.decode()
    edit = http.get(response["Location"]).content.decode()
    assert ping_url(heartbeat) in edit and "0 3 * * * curl -fsS" in edit  # the crontab line to copy


def test_a_period_out_of_range_is_refused(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    url = reverse("heartbeat_add", args=[tenant.client.code])
    data = {"name": "Worker", "kind": "worker", "schedule": "period", "period_minutes": 0, "grace_minutes": 5}
    assert http.post(url, data).status_code == 200
    assert not Heartbeat.objects.exists()


def test_saving_the_form_keeps_the_pings_that_came_meanwhile(tenant: Tenant) -> None:
    heartbeat = heartbeat_create(client=tenant.client, name="Nightly backup")
    http = login(tenant.consultant)
    url = reverse("heartbeat_edit", args=[heartbeat.code])
    assert http.get(url).status_code == 200
    pinged_at = timezone.now()
    record_ping(Heartbeat.objects.select_related("client").get(pk=heartbeat.pk), "success", "", pinged_at)
    data = {"name": "Nightly backup", "kind": "cron", "schedule": "period", "period_minutes": 1440, "grace_minutes": 60}
    assert http.post(url, {**data, "cron": ""}).status_code == 302
    heartbeat.refresh_from_db()
    assert heartbeat.period_minutes == 1440 and heartbeat.last_success_at == pinged_at
    assert heartbeat.due_at is not None and heartbeat.due_at <= timezone.now()  # the sweep looks again


def test_pause_resume_and_remove(tenant: Tenant) -> None:
    heartbeat = heartbeat_create(client=tenant.client, name="Nightly backup")
    token = ping_token(heartbeat)
    http = login(tenant.consultant)
    http.post(reverse("heartbeat_pause", args=[heartbeat.code]), {"pause": "1"})
    assert Heartbeat.objects.get(pk=heartbeat.pk).paused
    http.post(reverse("heartbeat_pause", args=[heartbeat.code]), {"pause": "0"})
    resumed = Heartbeat.objects.get(pk=heartbeat.pk)
    assert not resumed.paused and resumed.resumed_at is not None
    response = http.post(reverse("heartbeat_delete", args=[heartbeat.code]))
    assert response.status_code == 302 and not Heartbeat.objects.exists()
    assert HttpClient().get(f"/ping/{token}").status_code == 404


def test_a_founder_reads_the_heartbeats_and_changes_nothing(tenant: Tenant) -> None:
    heartbeat = _pinged(tenant, "Nightly backup", "success", timedelta(minutes=3))
    http = login(tenant.founder)
    page = _page(http, tenant)
    assert "Nightly backup" in page and ping_url(heartbeat) in page  # their team wires the jobs
    assert reverse("heartbeat_edit", args=[heartbeat.code]) not in page
    assert reverse("heartbeat_add", args=[tenant.client.code]) not in page
    assert http.get(reverse("heartbeat_edit", args=[heartbeat.code])).status_code == 403
    assert http.post(reverse("heartbeat_pause", args=[heartbeat.code]), {"pause": "1"}).status_code == 403
    assert http.post(reverse("heartbeat_delete", args=[heartbeat.code])).status_code == 403
    assert Heartbeat.objects.filter(pk=heartbeat.pk, paused=False).exists()
