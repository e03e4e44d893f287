"""The weekly report names each deploy of the week that made a core route slower, with the p95 before and
after, from the figures stored once the hour after was over (the raw probes are pruned by the time the report
is built); a healthy deploy, a deploy with no probes around it and another client's slow deploy are not named,
and a week with no deploy has no such line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring.deploy_latency import settle
from monitoring.models import Probe
from monitoring.rollup import prune
from reports.mail import render
from reports.weekly import build_report
from reports.weeks import period_for
from tests.conftest import Tenant
from tests.factories import DeployFactory, MonitorFactory
from tests.monitoring.latency_data import deploy_hours
from tests.reports.report_data import WEEK, existed_since

pytestmark = pytest.mark.django_db

SLOW = datetime(2026, 11, 10, 12, 23, tzinfo=UTC)  # Tuesday of the reported week (London is on UTC in November)
HEALTHY = datetime(2026, 11, 12, 16, 40, tzinfo=UTC)


def _now(tenant: Tenant) -> datetime:
    return period_for(tenant.client, WEEK).end + timedelta(hours=9)


def test_the_report_names_the_deploy_that_made_a_route_slower_and_not_the_healthy_one(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    existed_since(tenant.client, SLOW - timedelta(days=7))
    login = MonitorFactory(route=tenant.route)
    theirs = MonitorFactory(route=other_tenant.route)
    for deployed, after in ((SLOW, 280.0), (HEALTHY, 95.0)):
        deploy_hours(login, deployed, 90.0, after, deployed + timedelta(minutes=70))
    deploy_hours(theirs, SLOW, 90.0, 4000.0, SLOW + timedelta(minutes=70))
    DeployFactory(client=tenant.client, created=SLOW, version="v2.0.0")
    DeployFactory(client=tenant.client, created=HEALTHY, version="v2.0.1")
    DeployFactory(client=other_tenant.client, created=SLOW, version="their-v9")
    settle(SLOW + timedelta(minutes=70))  # the rollup task, once each hour after is over
    settle(HEALTHY + timedelta(minutes=70))
    now = _now(tenant)
    prune(now)
    assert not Probe.objects.exists()  # the report reads the stored figures

    data = build_report(tenant.client, WEEK, now=now)
    url = tenant.route.display_url
    line = f"The deploy of v2.0.0 on Tuesday 10 November made Login ({url}) slower: p95 100 ms before, 300 ms after."
    assert data["deploy_regressions"] == [line]
    assert [d["version"] for d in data["deploys"]] == ["v2.0.0", "v2.0.1"]
    rendered = render(data)
    assert line in rendered.text and "v2.0.1 on" not in rendered.text and "their-v9" not in rendered.text
    assert f"made Login ({url}) slower: p95 100 ms before, 300 ms after." in rendered.html
    other = build_report(other_tenant.client, WEEK, now=now)
    assert [line.split(" made ")[0] for line in other["deploy_regressions"]] == [
        "The deploy of their-v9 on Tuesday 10 November"
    ]


def test_day_one_a_deploy_with_no_history_and_a_week_without_deploys_name_nothing(tenant: Tenant) -> None:
    existed_since(tenant.client, SLOW - timedelta(hours=1))
    MonitorFactory(route=tenant.route)
    now = _now(tenant)
    empty = build_report(tenant.client, WEEK, now=now)
    assert empty["deploys"] == [] and empty["deploy_regressions"] == []
    assert "slower: p95" not in render(empty).text
    DeployFactory(client=tenant.client, created=SLOW, version="v1.0.0")  # no probe before or after it
    data = build_report(tenant.client, WEEK, now=now)
    assert [d["version"] for d in data["deploys"]] == ["v1.0.0"] and data["deploy_regressions"] == []
    assert "slower: p95" not in render(data).text
