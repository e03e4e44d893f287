"""The handover pack's "who sends as you": only when DMARC reports have come, true to them, escaped in the
pack's HTML and Markdown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from audits.inbound.dmarc_reports import parse_report
from audits.inbound.dmarc_store import dmarc_report_record
from audits.models import DmarcSource
from handover.pack import build_pack
from launchready.sandbox.dmarc_reports import Source, aggregate_xml
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>|**bold**"


def test_a_pack_without_reports_says_nothing_of_senders(tenant: Tenant) -> None:
    assert build_pack(tenant.client)["senders"] is None
    assert "Who sends as you" not in render_to_string("handover/pack.md", {"pack": build_pack(tenant.client)})


def test_the_pack_lists_who_sends_as_the_client(tenant: Tenant) -> None:
    begin = int((timezone.now() - timedelta(days=1)).timestamp())
    sources = [Source("192.0.2.1", 30), Source("192.0.2.2", 3, dkim="fail", spf="fail")]
    xml = aggregate_xml(tenant.domain.name, sources, report_id="p1", begin=begin)
    dmarc_report_record(client=tenant.client, report=parse_report(xml))
    DmarcSource.objects.filter(source_ip="192.0.2.2").update(host=HOSTILE, looked_up=timezone.now())
    pack = build_pack(tenant.client)
    senders = pack["senders"]
    assert (senders["messages"], senders["source_count"], senders["dmarc_rate"]) == (33, 2, 90)
    assert [s["failing"] for s in senders["sources"]] == [False, True]
    assert senders["sources"][1]["name"] == HOSTILE
    html = render_to_string("handover/_document.html", {"pack": pack})
    assert "Who sends as you" in html and HOSTILE not in html and "&lt;script&gt;" in html
    markdown = render_to_string("handover/pack.md", {"pack": pack})
    assert "### Who sends as you" in markdown
    assert "<script>" not in markdown and "| 192.0.2.2 |" not in markdown  # addresses as code, names escaped


def test_the_pack_gives_the_record_for_the_policys_next_step(tenant: Tenant) -> None:
    from audits.inbound.addresses import address_text, dmarc_address_for

    rua = address_text(dmarc_address_for(tenant.client), "mail.launchready.test")
    for days_ago in range(30, 0, -1):
        begin = int((timezone.now() - timedelta(days=days_ago)).timestamp())
        xml = aggregate_xml(
            tenant.domain.name, [Source("192.0.2.1", 30)], report_id=f"q{days_ago}", begin=begin, policy="quarantine"
        )
        dmarc_report_record(client=tenant.client, report=parse_report(xml))
    senders = build_pack(tenant.client)["senders"]
    record = f"v=DMARC1; p=reject; rua=mailto:{rua}"
    assert "Move from p=quarantine to p=reject" in senders["policy_advice"]
    assert senders["next_records"] == [{"name": f"_dmarc.{tenant.domain.name}", "record": record}]
    html = render_to_string("handover/_document.html", {"pack": build_pack(tenant.client)})
    assert f'<pre class="mono small breakall wrap">{record}</pre>' in html
    markdown = render_to_string("handover/pack.md", {"pack": build_pack(tenant.client)})
    assert f"- `_dmarc.{tenant.domain.name}` TXT `{record}`" in markdown
