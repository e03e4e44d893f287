"""Small rules of English: "Ghost Labs' routes", never "Ghost Labs's"; "just now", never "0 minutes ago"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import timezone

from audits.catalog import render
from audits.findings import Finding
from launchready.formatting import ago, possessive
from launchready.models import Route
from monitoring.models import Monitor
from tests.conftest import Tenant, login


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Brightpath", "Brightpath's"),
        ("Ghost Labs", "Ghost Labs'"),
        ("ACME WIDGETS", "ACME WIDGETS'"),
        ("Studiokit ", "Studiokit's"),
        ("", ""),
    ],
)
def test_it_writes_the_possessive_a_name_takes(name: str, shown: str) -> None:
    assert possessive(name) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "just now"),
        (59, "just now"),
        (-20, "just now"),
        (60, "1\xa0minute ago"),  # timesince keeps a number and its unit together
        (3 * 3600 + 60, "3\xa0hours, 1\xa0minute ago"),
    ],
)
def test_it_says_how_long_ago(seconds: int, shown: str) -> None:
    now = timezone.now()
    assert ago(now - timedelta(seconds=seconds), now) == shown


def test_the_filters_need_no_load_and_escape_the_name() -> None:
    template = engines["django"].from_string("{{ name|possessive }} routes · checked {{ at|ago }} · {{ none|ago }}.")
    html = template.render({"name": "<b>Ghost Labs", "at": timezone.now(), "none": None})
    assert html == "&lt;b&gt;Ghost Labs&#x27; routes · checked just now · ."


def test_plain_text_templates_show_the_apostrophe_as_it_is() -> None:
    template = engines["django"].from_string("{% autoescape off %}{{ name|possessive }} launch{% endautoescape %}")
    assert template.render({"name": "Ghost Labs"}) == "Ghost Labs' launch"


def test_the_catalog_fills_possessives_by_the_same_rule() -> None:
    finding = Finding("dns.ns.inconsistent", "example.news", params={"domain": "example.news"})
    assert render(finding)["title"].startswith("example.news' nameservers")
    finding = Finding("dns.ns.inconsistent", "brightpath.test", params={"domain": "brightpath.test"})
    assert render(finding)["title"].startswith("brightpath.test's nameservers")


@pytest.mark.django_db
def test_the_monitoring_page_reads_well_for_a_name_ending_in_s(tenant: Tenant) -> None:
    tenant.client.name = "Ghost Labs"
    tenant.client.save()
    route = Route.objects.get(pk=tenant.route.pk)
    Monitor.objects.create(client=tenant.client, route=route, url=route.url, last_checked_at=timezone.now())
    page = login(tenant.founder).get(reverse("client_monitoring", args=[tenant.client.code])).content.decode()
    assert "Ghost Labs&#x27; routes" in page and "Labs&#x27;s" not in page
    assert "checked just now" in page and "0 minutes ago" not in page


@pytest.mark.parametrize(("value", "shown"), [(None, "—"), (125.4, "125 ms"), (999, "999 ms"), (1234, "1.2 s")])
def test_every_template_words_a_response_time_as_the_pack_and_report_do(value: float | None, shown: str) -> None:
    page = engines["django"].from_string("p95: {{ v|latency }}").render({"v": value})
    assert page == f"p95: {shown}"


@pytest.mark.parametrize(
    ("template", "value", "shown"),
    [
        ('{{ n|counted:"file" }}', 12408, "12,408 files"),
        ('{{ n|counted:"file" }}', 1, "1 file"),
        ('{{ n|counted:"large file" }}', None, "0 large files"),
        ("{{ n|figure }}", 2345, "2,345"),
        ("{{ n|figure }}", "", "0"),
        ("{{ n|file_size }}", 1, "1 byte"),
        ("{{ n|file_size }}", 1000, "1,000 bytes"),
        ("{{ n|file_size }}", 12_800, "12.5 KB"),
        ("{{ n|file_size }}", 3 * 2**20, "3.0 MB"),
        ("{{ n|file_size }}", 1536 * 2**30, "1,536.0 GB"),
    ],
)
def test_figures_have_thousands_separators(template: str, value: object, shown: str) -> None:
    assert engines["django"].from_string(template).render({"n": value}) == shown
