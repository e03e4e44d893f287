"""The pack's "How to tell the jobs run": each heartbeat with its schedule, last ping (a moment: the pack is read
later) and state, where alerts go, and how to wire a new job; never a ping URL (whoever holds one can report a
run), in the page, the Markdown and the PDF's source alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from handover.pack import build_pack
from handover.pdf import pack_print_html
from handover.publish import pack_publish
from monitoring.models import AlertChannel, Heartbeat
from monitoring.pings import heartbeat_create, ping_token, record_ping
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def test_a_client_without_heartbeats_is_told_to_add_them(tenant: Tenant) -> None:
    jobs = build_pack(tenant.client)["jobs"]
    assert jobs["heartbeats"] == [] and "No background job reports to Launch Ready yet" in jobs["steps"][0]


def test_the_jobs_section_lists_each_heartbeat_and_never_its_url(tenant: Tenant) -> None:
    AlertChannel.objects.create(client=tenant.client, kind="email", name="Founders")
    heartbeat = heartbeat_create(
        client=tenant.client, name="Nightly backup", schedule="cron", cron="0 3 * * *", grace_minutes=30
    )
    pinged = timezone.now() - timedelta(hours=2)
    record_ping(Heartbeat.objects.select_related("client").get(pk=heartbeat.pk), "success", "", pinged)
    heartbeat_create(client=tenant.client, name="Queue worker", kind="worker", period_minutes=5)
    jobs = build_pack(tenant.client)["jobs"]
    rows = {r["name"]: r for r in jobs["heartbeats"]}
    assert rows["Nightly backup"]["schedule"] == "cron 0 3 * * * (Europe/London), 30 min grace"
    assert rows["Nightly backup"]["state"] == "Up" and rows["Nightly backup"]["last_ping"].endswith("(succeeded)")
    assert "ago" not in rows["Nightly backup"]["last_ping"]
    assert rows["Queue worker"]["state"] == "Never pinged" and rows["Queue worker"]["last_ping"] == "never"
    assert any("Founders" in step for step in jobs["steps"])
    assert "<ping URL from Launch Ready → Monitoring>/start" in jobs["example"]
    version = pack_publish(client=tenant.client, user=tenant.consultant)
    token = ping_token(heartbeat)
    for text in (version.html, version.markdown, pack_print_html(version)):
        assert "How to tell the jobs run" in text and "Nightly backup" in text
        assert token not in text and "/ping/" not in text
    assert "## 10. How to tell the jobs run" in version.markdown and "## 12. Support contacts" in version.markdown
