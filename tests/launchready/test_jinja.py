"""The Jinja2 partials' helpers say what Django's template tags and filters say."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse, set_script_prefix

from launchready.jinja import pluralize, url


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("client_detail", [uuid.uuid4()]),
        ("monitor_pause", [uuid.uuid4()]),
        ("dashboard", []),
        ("alert_channels", [uuid.UUID("12345678-1234-5678-1234-567812345678")]),
    ],
)
def test_url_is_reverse(name: str, args: list[uuid.UUID]) -> None:
    assert url(name, *args) == reverse(name, args=args)
    assert url(name, *args) == url(name, *args)  # the second time from the cut path


def test_url_follows_the_script_prefix() -> None:
    code = uuid.uuid4()
    try:
        set_script_prefix("/lr/")
        assert url("client_detail", code) == reverse("client_detail", args=[code]) == f"/lr/clients/{code}/"
    finally:
        set_script_prefix("/")
    assert url("client_detail", code) == f"/clients/{code}/"


def test_pluralize_is_djangos() -> None:
    assert [pluralize(n) for n in (0, 1, 2)] == ["s", "", "s"]


def test_a_timeline_moment_is_djangos_date_format() -> None:
    import zoneinfo
    from datetime import UTC, datetime

    from django.utils.dateformat import format as date_format

    from launchready.formatting import timeline_moment

    for zone in ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"):
        tz = zoneinfo.ZoneInfo(zone)
        for at in (datetime(2026, 12, 1, 21, 3, 22, tzinfo=UTC), datetime(2026, 7, 4, 9, 0, 5, tzinfo=UTC)):
            assert timeline_moment(at, tz) == date_format(at.astimezone(tz), "j M H:i:s T")
