"""The isolation matrix: every URL bound to a tenant object, tried by every foreign role, answers 404.

URLs are found by walking the URLconf, so a new view is covered without anyone adding it here; a URL
whose UUID names a kind this file does not know fails the test until it is taught how to build one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.urls import reverse
from django.urls.converters import StringConverter, UUIDConverter

from accounts.models import Invitation, Membership, Role
from audits.models import AuditRun, RepoScan
from handover.publish import pack_publish
from monitoring.deploys import token_create
from monitoring.models import AlertChannel, ApiToken, Deploy, Journey, JourneyRun, JourneyStep, Monitor
from monitoring.pings import heartbeat_create
from reports.models import WeeklyReport
from tests.conftest import Tenant, login, make_tenant
from tests.factories import ClientFactory, ContactFactory, InvitationFactory, MembershipFactory
from tests.urlwalk import walk


@dataclass(frozen=True)
class TenantUrl:
    name: str
    params: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


def tenant_urls() -> list[TenantUrl]:
    found = {}
    for name, converters in walk():
        # An object's code, as a UUID or as text an API reads itself (to answer a malformed one in JSON).
        params = tuple(
            sorted(
                k
                for k, v in converters.items()
                if isinstance(v, UUIDConverter) or (isinstance(v, StringConverter) and k.endswith("_code"))
            )
        )
        if params:
            found[name] = TenantUrl(name, params)
    return sorted(found.values(), key=lambda u: u.name)


def _invitation(t: Tenant) -> Invitation:
    return InvitationFactory(workspace=t.client.workspace)


def _audit_run(t: Tenant) -> AuditRun:
    return AuditRun.objects.create(domain=t.domain, state=AuditRun.State.DONE, go=True)


def _monitor(t: Tenant) -> Monitor:
    return Monitor.objects.get_or_create(client=t.client, route=t.route, defaults={"url": t.route.url})[0]


def _weekly_report(t: Tenant) -> WeeklyReport:
    return WeeklyReport.objects.get_or_create(
        client=t.client,
        week=date(2026, 11, 16),
        defaults={
            "period_start": datetime(2026, 11, 9, tzinfo=UTC),
            "period_end": datetime(2026, 11, 16, tzinfo=UTC),
            "state": WeeklyReport.State.SENT,
            "subject": f"{t.client.name} weekly status",
            "html": f"<p>{t.client.name}</p>",
            "text": t.client.name,
            "data": {"week": {"number": 46, "label": "9–15 November 2026"}},
        },
    )[0]


def _journey(t: Tenant) -> Journey:
    return Journey.objects.get_or_create(client=t.client, name="Sign in")[0]


def _journey_step(t: Tenant) -> JourneyStep:
    return JourneyStep.objects.get_or_create(
        journey=_journey(t), order=0, defaults={"name": "Open", "url": t.route.url}
    )[0]


def _membership(t: Tenant) -> Membership:
    return Membership.objects.get(user=t.consultant, workspace=t.client.workspace)


# How to find, in a tenant, the object each kind of UUID parameter names.
OBJECT_FOR: dict[str, Callable[[Tenant], Any]] = {
    "client_code": lambda t: t.client,
    "domain_code": lambda t: t.domain,
    "route_code": lambda t: t.route,
    "sprint_code": lambda t: t.sprint,
    "contact_code": lambda t: ContactFactory(client=t.client),
    "invitation_code": _invitation,
    "membership_code": _membership,
    "run_code": _audit_run,
    "monitor_code": _monitor,
    "channel_code": lambda t: AlertChannel.objects.create(client=t.client, kind="email", name="Founders"),
    "pack_code": lambda t: pack_publish(client=t.client, user=t.consultant),
    "report_code": _weekly_report,
    "token_code": lambda t: ApiToken.objects.create(
        client=t.client, name="CI", prefix=uuid.uuid4().hex[:12], digest="x"
    ),
    "deploy_code": lambda t: Deploy.objects.create(client=t.client, version="v1"),
    "scan_code": lambda t: RepoScan.objects.create(client=t.client, filename="acme.zip", kind="zip"),
    "heartbeat_code": lambda t: heartbeat_create(client=t.client, name="Nightly backup"),
    "journey_code": _journey,
    "step_code": _journey_step,
    "journey_run_code": lambda t: JourneyRun.objects.create(journey=_journey(t), summary="All 1 steps passed"),
}
# URLs that only a bearer token opens (the client's CI), never a session: a signed-in stranger gets the 401 of
# anyone without the token, and another client's token gets 404 (test_another_clients_token_gets_404).
TOKEN_URLS = {"api_scan", "api_deploy_detail"}

URLS = tenant_urls()
# What a POST-only action needs beside the common fields to act rather than ask: publishing the pack of a
# client never audited and with an empty access inventory asks to confirm both warnings first.
POST_EXTRA = {"pack_publish": {"confirm": "access,unaudited"}}


def _url(url: TenantUrl, tenant: Tenant) -> str:
    return reverse(url.name, kwargs={p: OBJECT_FOR[p](tenant).code for p in url.params})


def test_it_finds_the_tenant_urls() -> None:
    names = {u.name for u in URLS}
    assert {"client_detail", "domain_edit", "route_edit", "sprint_detail", "founder_invite"} <= names


@pytest.mark.parametrize("url", URLS, ids=str)
def test_it_knows_how_to_build_every_tenant_object(url: TenantUrl) -> None:
    unknown = [p for p in url.params if p not in OBJECT_FOR]
    assert not unknown, f"{url.name}: teach the isolation matrix to build a {unknown}"


def _foreign_users(tenant: Tenant, other: Tenant) -> dict[str, Any]:
    second_client = ClientFactory(workspace=tenant.client.workspace)
    founder_elsewhere = MembershipFactory(workspace=tenant.client.workspace, role=Role.FOUNDER, client=second_client)
    return {
        "owner of another workspace": other.owner,
        "consultant of another workspace": other.consultant,
        "founder of a client in another workspace": other.founder,
        "founder of another client in the same workspace": founder_elsewhere.user,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("url", URLS, ids=str)
def test_it_answers_404_to_every_foreign_role(url: TenantUrl) -> None:
    tenant, other = make_tenant(), make_tenant()
    path = _url(url, tenant)
    for role, user in _foreign_users(tenant, other).items():
        http = login(user)
        get = http.get(path)
        post = http.post(path, {"name": "x", "email": "x@example.com", "confirm_name": tenant.client.name})
        if url.name in TOKEN_URLS:
            assert get.status_code == 401 and post.status_code == 405, f"{role} {url.name}: a session opened it"
            continue
        assert get.status_code in (404, 405), f"{role} GET {url.name}: {get.status_code}"
        assert post.status_code == 404, f"{role} POST {url.name}: {post.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("url", URLS, ids=str)
def test_it_lets_the_workspace_owner_in(url: TenantUrl) -> None:
    tenant = make_tenant()
    http = login(tenant.owner)
    if url.name in TOKEN_URLS:  # the client's own token opens it
        _, secret = token_create(client=tenant.client, name="CI", user=tenant.owner)
        assert http.get(_url(url, tenant), HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200, url.name
        return
    response = http.get(_url(url, tenant))
    if response.status_code == 405:  # a POST-only action: it must act, not hide
        data = {"email": "new@example.com", "confirm_name": tenant.client.name, **POST_EXTRA.get(url.name, {})}
        response = http.post(_url(url, tenant), data)
        assert response.status_code == 302, f"{url.name}: {response.status_code}"
    else:
        assert response.status_code == 200, f"{url.name}: {response.status_code}"


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_sign_in(tenant: Tenant) -> None:
    from django.test import Client as HttpClient

    for url in URLS:
        response = HttpClient().get(_url(url, tenant))
        if url.name in TOKEN_URLS:  # no sign-in page for CI: the token is missing
            assert response.status_code == 401 and response.json()["error"], url.name
            continue
        assert response.status_code in (302, 405), url.name
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_shows_a_founder_their_own_client_read_only(tenant: Tenant) -> None:
    http = login(tenant.founder)
    assert http.get(reverse("client_detail", args=[tenant.client.code])).status_code == 200
    assert http.get(reverse("sprint_detail", args=[tenant.sprint.code])).status_code == 200
    assert http.get(reverse("client_edit", args=[tenant.client.code])).status_code == 403
    assert http.get(reverse("domain_edit", args=[tenant.domain.code])).status_code == 403
    assert http.post(reverse("founder_invite", args=[tenant.client.code]), {"email": "a@b.co"}).status_code == 403


# Pages of the whole workspace, addressed by no object: they act on the signed-in consultant's own workspace.
WORKSPACE_PAGES = ["dashboard", "onboarding_import", "onboarding_apply", "onboarding_template", "onboarding_export"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", WORKSPACE_PAGES)
def test_workspace_pages_show_a_consultant_only_their_own_workspace(name: str) -> None:
    tenant, other = make_tenant(), make_tenant()
    for role, user in _foreign_users(tenant, other).items():
        response = login(user).get(reverse(name))
        body = response.content.decode(errors="replace") if response.status_code == 200 else ""
        assert tenant.client.name not in body and tenant.domain.name not in body, f"{role} GET {name}"
    for founder in (tenant.founder, other.founder):
        assert login(founder).get(reverse(name)).status_code in (302, 404, 405), name
        if name.startswith("onboarding_"):
            assert login(founder).post(reverse(name), {"digest": "x"}).status_code == 404, name


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(TOKEN_URLS))
def test_another_clients_token_gets_404(name: str) -> None:
    tenant, other = make_tenant(), make_tenant()
    url = next(u for u in URLS if u.name == name)
    path = _url(url, tenant)
    _, own = token_create(client=tenant.client, name="CI", user=None)
    neighbour = ClientFactory(workspace=tenant.client.workspace)
    for who, client in (("another workspace's client", other.client), ("another client of the workspace", neighbour)):
        _, secret = token_create(client=client, name="CI", user=None)
        answer = login(other.owner).get(path, HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert answer.status_code == 404, f"{who}'s token GET {name}: {answer.status_code}"
    assert login(other.owner).get(path, HTTP_AUTHORIZATION=f"Bearer {own}").status_code == 200
