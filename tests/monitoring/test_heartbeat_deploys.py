"""Every job pinged since the deploy: each heartbeat waits for its first ping after the deploy until its first
expected time after it plus grace; one that does not come is a warning on the deploy (its page, the client's
page, the weekly report), never a change of the smoke test's verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from monitoring.models import Deploy, Heartbeat
from monitoring.pings import heartbeat_create, record_ping
from monitoring.smoke import follow_job_checks, smoke_test, start_job_checks
from tests.conftest import Tenant, login
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

DEPLOYED = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def _ping(heartbeat: Heartbeat, kind: str, at: datetime) -> None:
    record_ping(Heartbeat.objects.select_related("client").get(pk=heartbeat.pk), kind, "", at)


def _checks(deploy: Deploy) -> dict[str, dict[str, object]]:
    deploy.refresh_from_db()
    return {c["name"]: c for c in deploy.job_checks}  # type: ignore[misc]


def test_each_job_is_waited_for_until_its_first_expected_time_after_the_deploy(tenant: Tenant) -> None:
    hourly = heartbeat_create(client=tenant.client, name="Queue worker", kind="worker", period_minutes=60)
    _ping(hourly, "success", DEPLOYED - timedelta(minutes=10))  # next expected 14:50, grace until 15:00
    nightly = heartbeat_create(
        client=tenant.client, name="Nightly backup", schedule="cron", cron="0 3 * * *", grace_minutes=30
    )
    _ping(nightly, "success", DEPLOYED - timedelta(hours=11))  # 03:00 London: next 03:00 tomorrow, 03:30 at worst
    heartbeat_create(client=tenant.client, name="Not wired yet", period_minutes=30)
    paused = heartbeat_create(client=tenant.client, name="Old importer", paused=True)
    deploy = Deploy.objects.create(client=tenant.client, version="v2.4.0", created=DEPLOYED)
    start_job_checks(deploy)
    checks = _checks(deploy)
    assert set(checks) == {"Queue worker", "Nightly backup", "Not wired yet"} and paused.name not in checks
    assert checks["Queue worker"]["expected_by"] == "2026-11-30T15:00:00+00:00"
    assert checks["Nightly backup"]["expected_by"] == "2026-12-01T03:30:00+00:00"
    assert checks["Not wired yet"]["expected_by"] == "2026-11-30T14:40:00+00:00"
    assert deploy.jobs_waiting and all(c["state"] == "waiting" for c in checks.values())

    _ping(hourly, "success", DEPLOYED + timedelta(minutes=49))
    follow_job_checks(DEPLOYED + timedelta(minutes=50))
    checks = _checks(deploy)
    assert checks["Queue worker"]["state"] == "pinged" and checks["Not wired yet"]["state"] == "missed"
    assert checks["Nightly backup"]["state"] == "waiting" and deploy.jobs_waiting and deploy.jobs_missed == 1

    _ping(nightly, "fail", DEPLOYED + timedelta(hours=13, minutes=5))  # it ran, and reported a failure
    follow_job_checks(DEPLOYED + timedelta(hours=13, minutes=6))
    checks = _checks(deploy)
    assert checks["Nightly backup"]["state"] == "pinged" and checks["Nightly backup"]["failed"] is True
    assert not deploy.jobs_waiting and deploy.jobs_missed == 1
    assert follow_job_checks(DEPLOYED + timedelta(days=2)) == 0  # settled: nothing more to look at


def test_a_ping_after_its_time_is_still_a_miss_and_a_removed_job_is_dropped(tenant: Tenant) -> None:
    late = heartbeat_create(client=tenant.client, name="Invoice emails", period_minutes=60, grace_minutes=10)
    gone = heartbeat_create(client=tenant.client, name="Removed job", period_minutes=60)
    deploy = Deploy.objects.create(client=tenant.client, version="v2.4.1", created=DEPLOYED)
    start_job_checks(deploy)
    gone.delete()
    _ping(late, "success", DEPLOYED + timedelta(minutes=90))
    follow_job_checks(DEPLOYED + timedelta(minutes=91))
    checks = _checks(deploy)
    assert checks["Invoice emails"]["state"] == "missed" and checks["Removed job"]["state"] == "gone"


def test_the_smoke_test_starts_the_checks_and_keeps_its_verdict(tenant: Tenant) -> None:
    client = ClientFactory(workspace=tenant.client.workspace)  # no route to probe: the verdict is the routes'
    heartbeat_create(client=client, name="Nightly backup")
    deploy = smoke_test(Deploy.objects.create(client=client, version="v3"))
    assert deploy.smoke == Deploy.Smoke.PASSED and deploy.jobs_waiting
    follow_job_checks(deploy.created + timedelta(hours=2))
    deploy.refresh_from_db()
    assert deploy.smoke == Deploy.Smoke.PASSED and deploy.jobs_missed == 1


def test_the_deploy_pages_name_the_jobs_not_pinged_since(tenant: Tenant) -> None:
    heartbeat_create(client=tenant.client, name="Nightly backup")
    deploy = Deploy.objects.create(client=tenant.client, version="v2.4.0", smoke=Deploy.Smoke.PASSED)
    start_job_checks(deploy)
    follow_job_checks(deploy.created + timedelta(hours=2))
    http = login(tenant.consultant)
    deploys = http.get(reverse("deploy_tokens", args=[tenant.client.code])).content.decode()
    assert "Nightly backup: not pinged since the deploy: expected by" in deploys
    assert "1 job not pinged since" in deploys and "Smoke test: Passed" in deploys
    page = http.get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert "1 job not pinged since" in page
