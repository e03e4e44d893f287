"""Uptime says how long it was watched, on every surface that prints it: on day one (five minutes of
probes) it reads "100% over 5 minutes", never "last 30 days"; on day ninety "last 30 days" is earned."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from handover.pack import build_pack
from handover.publish import pack_publish, pack_render
from launchready.formatting import Observed, percent, span, uptime_text
from monitoring.models import Monitor, Probe, Rollup
from monitoring.rollup import HOUR, day_start, hour_start, rollup_day, rollup_hour
from monitoring.tallies import recount
from reports.digest import digest_message, digest_rows
from reports.mail import preview
from reports.schedule import preview_week
from tests.conftest import Tenant, login
from tests.reports.report_data import existed_since, monitors_of

pytestmark = pytest.mark.django_db

DAY_ONE = "100% over 5 minutes"
DAY_NINETY = "99.95%, last 30 days"


def _probes_just_now(monitor: Monitor, now: datetime, minutes: int, failures: int = 0) -> None:
    """One probe a minute for the last `minutes` minutes, rolled up by the product's code."""
    times = [now - timedelta(minutes=minutes - i, seconds=-10) for i in range(minutes)]
    Probe.objects.bulk_create(
        Probe(monitor=monitor, at=at, ok=i >= failures, status=200 if i >= failures else 500, latency_ms=120.0)
        for i, at in enumerate(times)
    )
    for hour in sorted({hour_start(at) for at in times}):
        rollup_hour(hour)
    for day in sorted({day_start(at) for at in times}):
        rollup_day(day)
    recount([monitor.id])  # the overview's live days, counted as the recorder counts them


def _watched_for(monitor: Monitor, now: datetime, days: int, failures: int = 0) -> None:
    """`days` whole days of one-minute probes before today and today so far, as the product leaves them:
    hourly rollups for the oldest days (the window's partial first day reads them), daily ones for every day,
    and today's raw probes rolled up by the product's code."""
    today = day_start(now)
    _probes_just_now(monitor, now, int((now - today).total_seconds() // 60))
    rows = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        rows.append(
            Rollup(monitor=monitor, period="day", start=day, probes=1440, failures=failures if back == 5 else 0)
        )
        if back >= 29:
            rows += [Rollup(monitor=monitor, period="hour", start=day + h * HOUR, probes=60) for h in range(24)]
    Rollup.objects.bulk_create(rows)
    recount([monitor.id])


def _day_one(tenant: Tenant) -> Monitor:
    now = timezone.now()
    tenant.client.timezone = "UTC"
    tenant.client.save(update_fields=["timezone"])
    existed_since(tenant.client, now - timedelta(minutes=10))
    [monitor] = monitors_of(tenant.client)
    _probes_just_now(monitor, now, 5)
    return monitor


def _surfaces(tenant: Tenant) -> dict[str, str]:
    """Every text that prints uptime: the founder home, the pack (HTML, Markdown, the PDF's source), the
    consultant's monitoring pages, the weekly email (subject, text, HTML) and the digest (text, HTML)."""
    client = tenant.client
    founder_home = login(tenant.founder).get(reverse("client_detail", args=[client.code])).content.decode()
    html, markdown = pack_render(build_pack(client))
    version = pack_publish(client=client, user=tenant.consultant)
    pdf_source = render_to_string("handover/print.html", {"version": version, "client": client})
    consultant = login(tenant.consultant)
    overview = consultant.get(reverse("monitoring_overview")).content.decode()
    monitors = consultant.get(reverse("client_monitoring", args=[client.code])).content.decode()
    _, email = preview(client, preview_week(client))
    membership = Membership.objects.get(user=tenant.consultant, workspace=client.workspace)
    digest = digest_message(membership, digest_rows([client]))
    return {
        "founder home": founder_home,
        "pack": html,
        "pack markdown": markdown,
        "pdf source": pdf_source,
        "overview": overview,
        "monitors": monitors,
        "email subject": email.subject,
        "email text": email.text,
        "email html": email.html,
        "digest text": str(digest.body),
        "digest html": str(digest.alternatives[0][0]),
    }


def test_on_day_one_every_surface_says_how_little_was_watched(tenant: Tenant) -> None:
    _day_one(tenant)
    seen = _surfaces(tenant)
    tile = '<div class="n">100%</div><div class="l">uptime over 5 minutes</div>'
    assert tile in seen["founder home"]
    assert '<span class="n">100%</span><span class="l">uptime over 5 minutes</span>' in seen["pack"]
    assert "uptime over 5 minutes" in seen["pdf source"]
    assert f"| {DAY_ONE} |" in seen["pack markdown"]  # the summary table and the route's row
    assert DAY_ONE in seen["pack"] and DAY_ONE in seen["overview"] and DAY_ONE in seen["monitors"]
    assert "100% uptime over 5 minutes" in seen["email subject"]
    assert f"Uptime          {DAY_ONE}" in seen["email text"]
    assert "Your routes were up 100% over 5 minutes of monitoring" in seen["email text"]
    assert "uptime, all routes over 5 minutes" in seen["email html"]
    assert f"uptime {DAY_ONE}" in seen["digest text"] and f"uptime {DAY_ONE}" in seen["digest html"]
    for surface, text in seen.items():
        assert "last 30 days" not in text and "30 days:" not in text, surface
        assert "the whole week" not in text and "of the week" not in text, surface


def test_day_one_failures_are_a_figure_over_minutes_not_a_month(tenant: Tenant) -> None:
    now = timezone.now()
    existed_since(tenant.client, now - timedelta(minutes=10))
    [monitor] = monitors_of(tenant.client)
    _probes_just_now(monitor, now, 4, failures=3)
    pack = build_pack(tenant.client)
    assert pack["status"]["uptime_text"] == "25% over 4 minutes"
    assert pack["status"]["uptime_label"] == "uptime over 4 minutes"


def test_on_day_ninety_the_last_30_days_are_earned(tenant: Tenant) -> None:
    now = timezone.now()
    tenant.client.timezone = "UTC"  # the rollups' days are UTC days: the reported week is made of whole ones
    tenant.client.save(update_fields=["timezone"])
    existed_since(tenant.client, now - timedelta(days=90))
    [monitor] = monitors_of(tenant.client)
    _watched_for(monitor, now, days=90, failures=21)
    seen = _surfaces(tenant)
    assert '<div class="n">99.95%</div><div class="l">uptime, last 30 days</div>' in seen["founder home"]
    assert '<span class="n">99.95%</span><span class="l">uptime, last 30 days</span>' in seen["pack"]
    assert "uptime, last 30 days" in seen["pdf source"]
    assert f"| {DAY_NINETY} |" in seen["pack markdown"]
    assert DAY_NINETY in seen["overview"] and DAY_NINETY in seen["monitors"]
    # The week reported was watched whole: no "over" in the email or the digest.
    assert re.search(r"Uptime {10}[0-9.]+%, the whole week", seen["email text"])
    assert "of the week" in seen["email text"] and " over " not in seen["email subject"]
    assert re.search(r"uptime [0-9.]+%, the whole week", seen["digest text"])


def test_twelve_days_of_monitoring_say_twelve_days(tenant: Tenant) -> None:
    now = timezone.now()
    existed_since(tenant.client, now - timedelta(days=13))
    [monitor] = monitors_of(tenant.client)
    _watched_for(monitor, now, days=12, failures=9)
    pack = build_pack(tenant.client)
    assert pack["status"]["uptime_text"].endswith(" over 12 days")
    assert pack["status"]["uptime_label"] == "uptime over 12 days"


def test_time_the_monitoring_did_not_run_is_neither_up_nor_down(tenant: Tenant) -> None:
    """A day the scheduler was away leaves no probe: the figure is over the days watched, not dragged down."""
    now = timezone.now()
    existed_since(tenant.client, now - timedelta(days=40))
    [monitor] = monitors_of(tenant.client)
    _watched_for(monitor, now, days=40)
    Rollup.objects.filter(monitor=monitor, start__gte=day_start(now) - timedelta(days=10)).filter(
        start__lt=day_start(now) - timedelta(days=7)
    ).delete()
    status = build_pack(tenant.client)["status"]
    # 30 days less the 3 unwatched, less the part of the window's first hour no hourly rollup covers.
    assert status["uptime_figure"] == "100%" and status["uptime_label"] == "uptime over 26 days"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (100.0, "100%"),
        (99.999, "99.99%"),
        (99.996, "99.99%"),
        (99.95, "99.95%"),
        (25.0, "25%"),
        (99.5, "99.5%"),
        (None, "no data yet"),
    ],
)
def test_percentages_never_round_a_failure_up_to_100(value: float | None, text: str) -> None:
    assert percent(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30, "less than a minute"), (60, "1 minute"), (300, "5 minutes"), (3 * 3600, "3 hours"), (12 * 86400, "12 days")],
)
def test_durations_are_rounded_down_in_the_readers_unit(seconds: int, text: str) -> None:
    assert span(seconds) == text


def test_the_sentence_joins_figure_and_span() -> None:
    month = 30 * 86400
    assert uptime_text(Observed(5, 0, 300, month), "last 30 days") == "100% over 5 minutes"
    assert uptime_text(Observed(2000, 1, 12 * 86400, month), "last 30 days") == "99.95% over 12 days"
    assert uptime_text(Observed(2000, 1, month, month), "last 30 days") == "99.95%, last 30 days"
    assert uptime_text(Observed(0, 0, 0, month), "last 30 days") == "no data yet"
    assert uptime_text(Observed(1, 0, 30, month), "last 30 days") == "100% in under a minute"


def _raw_probes(monitor: Monitor, times: list[datetime], failing: bool) -> None:
    """Probes the rollup task has not rolled up yet (it runs every few minutes)."""
    Probe.objects.bulk_create(
        Probe(
            monitor=monitor, at=at, ok=not failing, status=502 if failing else 200, latency_ms=None if failing else 90.0
        )
        for at in times
    )
    recount([monitor.id])  # and counted in the monitor's tallies, as the scheduler counts what it records


def _figures(seen: dict[str, str], figure: str, over: str) -> dict[str, bool]:
    """Which surfaces print `figure` over `over`, each in its own words."""
    words = {
        "founder home": f'<div class="n">{figure}</div><div class="l">uptime over {over}</div>',
        "email subject": f"{figure} uptime over {over}",
    }
    return {surface: words.get(surface, f"{figure} over {over}") in seen[surface] for surface in SHARED_FIGURE}


SHARED_FIGURE = ("founder home", "pack", "pack markdown", "overview", "monitors", "email subject", "email text")


def test_it_counts_a_failure_of_this_hour_not_rolled_up_yet_on_every_surface(tenant: Tenant) -> None:
    now = timezone.now()
    tenant.client.timezone = "UTC"
    tenant.client.save(update_fields=["timezone"])
    existed_since(tenant.client, now - timedelta(minutes=41))
    [monitor] = monitors_of(tenant.client)
    _probes_just_now(monitor, now - timedelta(minutes=10), 30)  # up for 30 minutes, rolled up
    failing = [now - timedelta(minutes=i, seconds=-5) for i in range(10, 0, -1)]
    _raw_probes(monitor, failing, failing=True)  # then down for 10 minutes, not rolled up yet
    probes = Probe.objects.filter(monitor=monitor).count()
    figure = percent(100.0 * (probes - 10) / probes)
    seen = _surfaces(tenant)
    assert figure != "100%"
    assert _figures(seen, figure, "40 minutes") == dict.fromkeys(SHARED_FIGURE, True)
    assert "100%" not in seen["email subject"] and "100%" not in seen["pack"]


def test_a_client_watched_for_minutes_shows_the_same_figure_everywhere(tenant: Tenant) -> None:
    now = timezone.now()
    tenant.client.timezone = "UTC"
    tenant.client.save(update_fields=["timezone"])
    existed_since(tenant.client, now - timedelta(minutes=5))
    [monitor] = monitors_of(tenant.client)
    _raw_probes(monitor, [now - timedelta(minutes=i, seconds=-5) for i in range(4, 0, -1)], failing=True)
    seen = _surfaces(tenant)
    assert _figures(seen, "0%", "4 minutes") == dict.fromkeys(SHARED_FIGURE, True)
    for surface in SHARED_FIGURE:
        assert not re.search(r"[Uu]ptime\W{0,20}(no data|no monitoring data)", seen[surface]), surface
        assert "no results" not in seen[surface], surface


def test_the_pack_and_the_report_print_the_same_figure_and_never_round_an_outage_up_to_100(tenant: Tenant) -> None:
    """One failed probe in 20,160 is 99.995…% up: "100.00%" when rounded to two places, "99.99%" on every surface."""
    now = timezone.now()
    tenant.client.timezone = "UTC"  # the rollups' days are UTC days: the reported week is made of whole ones
    tenant.client.save(update_fields=["timezone"])
    existed_since(tenant.client, now - timedelta(days=40))
    [monitor] = monitors_of(tenant.client)
    Monitor.objects.filter(pk=monitor.pk).update(interval=30)
    first_day = datetime.fromisoformat(preview(tenant.client, preview_week(tenant.client))[0]["week"]["start"])
    Rollup.objects.bulk_create(
        [Rollup(monitor=monitor, period="day", start=first_day, probes=2880, failures=1)]
        + [
            Rollup(monitor=monitor, period="day", start=first_day + timedelta(days=d), probes=2880, failures=0)
            for d in range(1, 7)
        ]
        # The rollup task's latest hour: every daily rollup before it is complete.
        + [Rollup(monitor=monitor, period="hour", start=hour_start(now), probes=0)]
    )
    status = build_pack(tenant.client)["status"]
    data, email = preview(tenant.client, preview_week(tenant.client))
    assert data["week"]["start"] == first_day.isoformat()
    assert 99.995 < status["uptime"] < 100 and f"{status['uptime']:.2f}" == "100.00"
    assert data["summary"]["uptime_value"] == status["uptime"]
    assert status["uptime_figure"] == data["summary"]["uptime"] == data["routes"][0]["uptime"] == "99.99%"
    html, markdown = pack_render(build_pack(tenant.client))
    assert "99.99%" in html and "99.99%" in markdown and "99.99%" in email.subject and "99.99%" in email.text
    for text in (html, markdown, email.subject, email.text, email.html):
        assert not re.search(r"[\s>|]100(\.0+)?%[\s<,|]", text)  # a figure, not a table's width="100%"
