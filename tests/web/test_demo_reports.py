"""The demo workspace has a report preview with numbers and trends at once, and one report in its history."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from accounts.models import User
from launchready.models import Client
from monitoring.models import Alert, AlertChannel, Incident, IncidentEvent
from reports.models import WeeklyReport
from tests.conftest import login
from web.demo import CONSULTANT_EMAIL, FOUNDER_EMAIL, seed_demo

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_preview_with_numbers_and_a_sent_report(tmp_path: Path) -> None:
    seed_demo(tmp_path)
    brightpath = Client.objects.get(name="Brightpath Coaching")
    sent = WeeklyReport.objects.get(client=brightpath)
    assert sent.state == "sent" and sent.html and sent.data["summary"]["incidents"] == 1
    assert all(r["uptime_value"] is not None and r["p95_value"] for r in sent.data["routes"])
    studiokit = WeeklyReport.objects.get(client__name="Studiokit")
    assert all(r["trend"] == "slower" for r in studiokit.data["routes"])

    consultant = login(User.objects.get(email=CONSULTANT_EMAIL))
    preview = consultant.get(reverse("report_preview_email", args=[brightpath.code]))
    assert preview.status_code == 200 and "Routes: uptime and speed" in preview.content.decode()
    assert consultant.get(reverse("report_digest")).status_code == 200
    founder = login(User.objects.get(email=FOUNDER_EMAIL))
    history = founder.get(reverse("report_history", args=[brightpath.code])).content.decode()
    assert reverse("report_detail", args=[sent.code]) in history
    seed_demo(tmp_path)  # a second start changes nothing
    assert WeeklyReport.objects.count() == 3


def test_the_demo_outage_told_its_channel_as_the_product_would_have(tmp_path: Path) -> None:
    """The seeded past outage has its alerts and their lines on the timeline, and the report counts them."""
    seed_demo(tmp_path)
    brightpath = Client.objects.get(name="Brightpath Coaching")
    incident = Incident.objects.get(monitor__client=brightpath)
    channels = AlertChannel.objects.filter(client=brightpath).count()
    assert channels >= 1
    assert Alert.objects.filter(incident=incident, state=Alert.State.SENT).count() == 2 * channels
    lines = IncidentEvent.objects.filter(incident=incident, kind=IncidentEvent.Kind.ALERT_SENT)
    assert lines.count() == 2 * channels and all("alert sent to" in e.detail for e in lines)
    sent = WeeklyReport.objects.get(client=brightpath)
    assert sent.data["summary"]["alerts"] == 2 * channels
