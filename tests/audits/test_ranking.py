"""The risk list's order within a severity: the route a finding is about by its kind, then its host by its label
under the audited domain; read from the finding's own fields, never from its wording or its subject."""

from __future__ import annotations

import pytest

from audits.findings import Finding
from audits.lifecycle import record_findings
from audits.models import AuditRun
from audits.recording import History
from audits.risk import host_label, impact_rank
from launchready.models import Route
from tests.conftest import Tenant

APEX = "shop.test"


def _route(kind: str, url: str = f"https://app.{APEX}/x") -> Finding:
    return Finding("route.unexpected_status", url, host=f"app.{APEX}", route_kind=kind)


def _host(host: str, apex: str = APEX) -> int:
    return impact_rank(Finding("tls.expired", host, host=host), apex)


def test_it_puts_sign_in_then_payment_then_the_dashboard_then_the_api_first() -> None:
    kinds = [Route.Kind.API_HEALTH, Route.Kind.CHECKOUT, Route.Kind.LOGIN, Route.Kind.DASHBOARD, Route.Kind.WEBHOOK]
    ranked = sorted(kinds, key=lambda kind: impact_rank(_route(kind), APEX))
    assert ranked == [
        Route.Kind.LOGIN,
        Route.Kind.CHECKOUT,
        Route.Kind.DASHBOARD,
        Route.Kind.API_HEALTH,
        Route.Kind.WEBHOOK,
    ]
    assert impact_rank(_route(Route.Kind.AUTH_CALLBACK), APEX) == impact_rank(_route(Route.Kind.LOGIN), APEX)


def test_a_homepage_route_is_ranked_by_its_host() -> None:
    www = f"www.{APEX}"
    homepage = Finding("route.unexpected_status", f"https://{www}/", host=www, route_kind=Route.Kind.HOMEPAGE)
    assert impact_rank(homepage, APEX) == impact_rank(Finding("route.unexpected_status", host=www), APEX)
    assert impact_rank(homepage, APEX) > impact_rank(_route(Route.Kind.WEBHOOK), APEX)


def test_it_weighs_hosts_by_their_label_under_the_domain() -> None:
    login, app, api, www = (_host(f"{label}.{APEX}") for label in ("login", "app", "api", "www"))
    assert login < app < api < www == _host(APEX) == _host("") < _host(f"shop.{APEX}") == _host("cdn.example.net")
    assert _host(f"api.eu.{APEX}") == api  # the label next to the domain counts


@pytest.mark.parametrize(
    ("host", "apex", "label"),
    [
        ("app.example.co.uk", "example.co.uk", "app"),
        ("example.co.uk", "example.co.uk", ""),
        ("", "example.co.uk", ""),
        ("api.vendor.test", "example.co.uk", None),
        ("notexample.co.uk", "example.co.uk", None),
    ],
)
def test_the_label_is_read_under_the_audited_domain(host: str, apex: str, label: str | None) -> None:
    assert host_label(host, apex) == label


def test_the_wording_and_the_subject_do_not_move_a_finding() -> None:
    worded = Finding("route.unexpected_status", f"https://login.{APEX}/", params={"kind": "Login"})
    assert impact_rank(worded, APEX) == impact_rank(Finding("route.unexpected_status"), APEX)


def test_severity_comes_before_everything_else() -> None:
    low = Finding("redirect.temporary", host=f"login.{APEX}")  # low, on the sign-in host
    high = Finding("dns.host.missing", host=f"shop.{APEX}")  # high, on a minor host
    assert impact_rank(high, APEX) < impact_rank(low, APEX)


@pytest.mark.django_db
def test_a_run_ranks_its_findings_under_its_own_domain(tenant: Tenant) -> None:
    run = AuditRun.objects.create(domain=tenant.domain)
    host = f"app.{tenant.domain.name}"
    finding = Finding("dns.host.missing", host, params={"host": host}, host=host)
    record_findings(run, [finding], History(set(), set()))
    assert run.findings.get().rank == impact_rank(finding, tenant.domain.name) < impact_rank(finding)
