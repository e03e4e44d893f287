"""The consultant's pages: dashboard, client, domain, route and sprint forms."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audits.models import AuditFinding, AuditRun
from launchready.formatting import countdown
from launchready.models import Client, Domain, Route, Sprint
from tests.conftest import Tenant, login
from tests.factories import ClientFactory, DomainFactory, MembershipFactory, RouteFactory, SprintFactory
from web.views import DASHBOARD_PAGE_SIZE

pytestmark = pytest.mark.django_db


def _fill_workspace(tenant: Tenant, clients: int) -> None:
    for _ in range(clients):
        client = ClientFactory(workspace=tenant.client.workspace)
        for _ in range(2):
            domain = DomainFactory(client=client)
            RouteFactory.create_batch(3, domain=domain)
            AuditRun.objects.create(domain=domain, state=AuditRun.State.DONE, go=False, counts={"blocker": 2})
        SprintFactory(client=client)


def test_dashboard_lists_the_workspace_clients_with_their_countdown(tenant: Tenant, other_tenant: Tenant) -> None:
    response = login(tenant.consultant).get(reverse("dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert tenant.client.name in page
    assert other_tenant.client.name not in page
    assert re.search(r"4[12] h \d\d min left", page)


@pytest.mark.parametrize("clients", [1, 25])
def test_dashboard_query_count_does_not_grow_with_clients(
    tenant: Tenant, clients: int, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    _fill_workspace(tenant, clients)
    http = login(tenant.consultant)
    with django_assert_max_num_queries(7):  # the verdicts come with the clients, from their status rows
        response = http.get(reverse("dashboard"))
    page = response.content.decode()
    assert page.count("<tr>") == clients + 2  # header row, tenant's client, the new ones
    assert page.count("No-go · 4 blockers") == clients
    assert page.count("Not audited") == 1


def test_dashboard_pages_clients_soonest_deadline_first(tenant: Tenant, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    workspace, now = tenant.client.workspace, timezone.now()
    Sprint.objects.filter(client=tenant.client).delete()  # the tenant's client comes last: no sprint
    for n in range(DASHBOARD_PAGE_SIZE + 5):  # deadlines from 1 h to 55 h away, made in a shuffled order
        hours = (n * 7) % (DASHBOARD_PAGE_SIZE + 5) + 1
        client = ClientFactory(workspace=workspace, name=f"Client {hours:02d}")
        SprintFactory(
            client=client, started_at=now - timedelta(hours=48 - hours), deadline=now + timedelta(hours=hours)
        )
    http = login(tenant.consultant)
    with django_assert_max_num_queries(7):
        first = http.get(reverse("dashboard")).content.decode()
    names = re.findall(r"<strong>([^<]+)</strong></a>", first)
    assert names == [f"Client {h:02d}" for h in range(1, DASHBOARD_PAGE_SIZE + 1)]  # the soonest deadlines first
    assert f"{DASHBOARD_PAGE_SIZE + 6} clients" in first and "Later deadlines" in first
    second = http.get(reverse("dashboard") + "?page=2").content.decode()
    names = re.findall(r"<strong>([^<]+)</strong></a>", second)
    # The rest of the sprints, then the client without one.
    assert names == [f"Client {h:02d}" for h in range(DASHBOARD_PAGE_SIZE + 1, DASHBOARD_PAGE_SIZE + 6)] + [
        tenant.client.name
    ]
    refresh = http.get(reverse("dashboard") + "?page=2", headers={"HX-Request": "true"}).content.decode()
    assert tenant.client.name in refresh and "Client 01" not in refresh
    assert http.get(reverse("dashboard") + "?page=nonsense").status_code == 200  # the first page, not an error


def test_dashboard_partial_refreshes_rows_only(tenant: Tenant) -> None:
    response = login(tenant.consultant).get(reverse("dashboard"), headers={"HX-Request": "true"})
    assert b"<html" not in response.content
    assert tenant.client.name.encode() in response.content


@pytest.mark.parametrize("extra_domains", [0, 20])
def test_client_page_query_count_does_not_grow_with_domains(
    tenant: Tenant, extra_domains: int, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for _ in range(extra_domains):
        RouteFactory.create_batch(3, domain=DomainFactory(client=tenant.client))
    http = login(tenant.consultant)
    with django_assert_max_num_queries(20):  # the pack card, the latest real send, senders and journeys: one each
        response = http.get(reverse("client_detail", args=[tenant.client.code]))
    assert response.status_code == 200
    assert response.content.decode().count('class="domain"') == extra_domains + 1


def test_client_page_lists_every_route_of_every_domain(tenant: Tenant) -> None:
    """The domains and routes (a Jinja2 partial): each route's address, kind and expected statuses, with its edit
    link for the consultant and none for the founder."""
    second = DomainFactory(client=tenant.client)
    routes = [tenant.route, *RouteFactory.create_batch(2, domain=second, keyword="Welcome back")]
    url = reverse("client_detail", args=[tenant.client.code])
    consultant = login(tenant.consultant).get(url).content.decode()
    founder = login(tenant.founder).get(url).content.decode()
    for route in routes:
        assert route.display_url in consultant and route.display_url in founder
        assert reverse("route_edit", args=[route.code]) in consultant
        assert reverse("route_edit", args=[route.code]) not in founder
    assert consultant.count("must contain “Welcome back”") == 2
    assert consultant.count(f'<td data-label="Expects" class="small">{tenant.route.expected_statuses_text}</td>') >= 1
    assert (
        reverse("route_new", args=[second.code]) in consultant
        and reverse("route_new", args=[second.code]) not in founder
    )


def test_a_consultant_adds_a_client_a_domain_and_routes(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    response = http.post(
        reverse("client_new"),
        {
            "name": "  Acme   Labs ",
            "product_kind": "ai_chatbot",
            "stage": "prototype_to_demo",
            "timezone": "Asia/Tokyo",
        },
    )
    client = Client.objects.get(name="Acme Labs")
    assert client.workspace == tenant.client.workspace
    assert response["Location"] == reverse("domain_new", args=[client.code])

    response = http.post(
        reverse("domain_new", args=[client.code]),
        {
            "name": "https://www.BÜCHER.de/pricing",
            "canonical_host": "www",
            "hosts_text": "app, API, portal.xn--bcher-kva.de",
            "mail_providers": ["google", "postmark"],
            "selectors_text": "google, pm",
            "hosting_provider": "vercel",
            "deploy_method": "git_push",
        },
    )
    domain = Domain.objects.get(client=client)
    assert domain.name == "xn--bcher-kva.de"
    assert domain.display_name == "bücher.de"
    assert domain.hosts == ["app", "api", "portal"]
    assert domain.dkim_selectors == ["google", "pm"]
    assert response["Location"] == reverse("route_new", args=[domain.code])

    http.post(reverse("route_new", args=[domain.code]), {"host": "app", "path": "login", "kind": "login"})
    http.post(
        reverse("route_new", args=[domain.code]),
        {
            "host": "api",
            "path": "https://api.bücher.de/health?deep=1",
            "kind": "api_health",
            "statuses_text": "200, 204",
        },
    )
    routes = {r.path: r for r in Route.objects.filter(domain=domain)}
    assert routes["/login"].expected_statuses == [200]
    assert routes["/health?deep=1"].expected_statuses == [200, 204]
    assert routes["/login"].display_url == "https://app.bücher.de/login"

    page = http.get(reverse("client_detail", args=[client.code])).content.decode()
    assert "bücher.de" in page and "https://app.bücher.de/login" in page


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("exa mple.com", "cannot contain spaces"),
        ("192.0.2.1", "IP address"),
        ("com", "top-level domain"),
        ("a" * 64 + ".com", "at most 63"),
    ],
)
def test_a_bad_domain_is_a_form_error(tenant: Tenant, name: str, error: str) -> None:
    response = login(tenant.consultant).post(
        reverse("domain_new", args=[tenant.client.code]),
        {"name": name, "canonical_host": "www", "hosting_provider": "other", "deploy_method": "git_push"},
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert Domain.objects.filter(client=tenant.client).count() == 1


def test_the_same_domain_twice_is_a_form_error(tenant: Tenant) -> None:
    response = login(tenant.consultant).post(
        reverse("domain_new", args=[tenant.client.code]),
        {
            "name": f"WWW.{tenant.domain.name.upper()}.",
            "canonical_host": "www",
            "hosting_provider": "other",
            "deploy_method": "git_push",
        },
    )
    assert "already has that domain" in response.content.decode()


def test_bad_route_input_is_a_form_error(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    url = reverse("route_new", args=[tenant.domain.code])
    for data, error in [
        ({"host": "app", "path": "/a b", "kind": "login"}, "cannot contain spaces"),
        ({"host": "app", "path": "/", "kind": "login", "statuses_text": "200, 999"}, "not an HTTP status code"),
        ({"host": "app", "path": "/", "kind": "login", "statuses_text": "ok"}, "not an HTTP status code"),
        ({"host": "evil", "path": "/", "kind": "login"}, "Select a valid choice"),
    ]:
        response = http.post(url, data)
        assert error in response.content.decode(), data
    assert Route.objects.filter(domain=tenant.domain).count() == 1


def test_a_sprint_runs_48_hours_in_the_client_time_zone(tenant: Tenant) -> None:
    tenant.sprint.state = Sprint.State.COMPLETED
    tenant.sprint.save()
    http = login(tenant.consultant)
    http.post(
        reverse("sprint_new", args=[tenant.client.code]),
        {"started_at": "2026-11-20T09:00", "state": "active", "notes": "Quick audit first"},
    )
    sprint = Sprint.objects.get(client=tenant.client, state="active")
    assert sprint.started_at.isoformat() == "2026-11-20T09:00:00+00:00"  # Europe/London is UTC in November
    assert sprint.deadline - sprint.started_at == timedelta(hours=48)


def test_only_one_open_sprint_per_client(tenant: Tenant) -> None:
    response = login(tenant.consultant).post(
        reverse("sprint_new", args=[tenant.client.code]), {"started_at": "2026-11-20T09:00", "state": "active"}
    )
    assert "already has a sprint" in response.content.decode()


def test_the_countdown_refreshes_as_a_partial(tenant: Tenant) -> None:
    response = login(tenant.founder).get(
        reverse("sprint_detail", args=[tenant.sprint.code]), headers={"HX-Request": "true"}
    )
    assert b'id="countdown"' in response.content
    assert b"<html" not in response.content
    assert b"42 h" in response.content or b"41 h" in response.content


def test_deleting_a_client_needs_its_name(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    http.post(reverse("client_delete", args=[tenant.client.code]), {"confirm_name": "wrong"})
    assert Client.objects.filter(pk=tenant.client.pk).exists()
    http.post(reverse("client_delete", args=[tenant.client.code]), {"confirm_name": tenant.client.name})
    assert not Client.objects.filter(pk=tenant.client.pk).exists()


def test_founder_home_is_their_own_client(tenant: Tenant) -> None:
    http = login(tenant.founder)
    assert http.get("/")["Location"] == reverse("client_detail", args=[tenant.client.code])
    assert http.get(reverse("dashboard"))["Location"] == reverse("client_detail", args=[tenant.client.code])
    page = http.get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert "Edit client" not in page and "Invite founder" not in page
    assert http.get(reverse("client_new")).status_code == 404


def test_a_user_without_a_workspace_is_asked_to_create_one(outsider) -> None:  # type: ignore[no-untyped-def]
    http = login(outsider)
    assert http.get("/")["Location"] == reverse("workspace_new")
    assert http.get(reverse("dashboard"))["Location"] == reverse("workspace_new")
    http.post(reverse("workspace_new"), {"name": "Solo Studio"})
    membership = outsider.memberships.get()
    assert membership.role == Role.OWNER and membership.workspace.name == "Solo Studio"


def test_the_workspace_switcher_changes_the_dashboard(tenant: Tenant, other_tenant: Tenant) -> None:
    MembershipFactory(user=tenant.consultant, workspace=other_tenant.client.workspace, role=Role.CONSULTANT)
    http = login(tenant.consultant)
    first = http.get(reverse("dashboard")).content.decode()
    assert 'id="workspace-select"' in first
    http.post(reverse("workspace_switch"), {"workspace": str(other_tenant.client.workspace.code)})
    second = http.get(reverse("dashboard")).content.decode()
    assert (tenant.client.name in first) != (tenant.client.name in second)
    assert (other_tenant.client.name in second) != (other_tenant.client.name in first)


def test_switching_to_a_foreign_workspace_is_404(tenant: Tenant, other_tenant: Tenant) -> None:
    response = login(tenant.consultant).post(
        reverse("workspace_switch"), {"workspace": str(other_tenant.client.workspace.code)}
    )
    assert response.status_code == 404


def test_countdown_words() -> None:
    start = timezone.now()
    end = start + timedelta(hours=48)
    assert countdown(start, end, start + timedelta(hours=6, minutes=30)).text == "41 h 30 min left"
    assert countdown(start, end, start + timedelta(hours=47)).text == "1 h 00 min left"
    assert countdown(start, end, end + timedelta(minutes=5)).overdue
    assert countdown(start, end, start - timedelta(hours=2)).text == "starts in 2 h 00 min"
    assert countdown(start, end, start - timedelta(days=5)).text == "starts in 5 d 0 h"


def test_a_homograph_domain_is_warned_on_the_form_and_shown_with_its_ascii_form(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    url = reverse("domain_new", args=[tenant.client.code])
    fields = {"name": "аррӏе.com", "canonical_host": "apex", "hosting_provider": "other", "deploy_method": "git_push"}
    warned = http.post(url, fields)
    page = warned.content.decode()
    assert warned.status_code == 200
    assert "аррӏе.com mixes scripts or is written in letters that pass for Latin ones" in page
    assert "its ASCII form is xn--80ak6aa92e.com" in page
    assert 'type="checkbox" name="lookalike_confirmed"' in page
    assert not Domain.objects.filter(name="xn--80ak6aa92e.com").exists()

    confirmed = http.post(url, fields | {"lookalike_confirmed": "on"})
    domain = Domain.objects.get(name="xn--80ak6aa92e.com")
    assert confirmed.status_code == 302
    assert domain.display_name == "аррӏе.com (xn--80ak6aa92e.com)"
    client_page = http.get(reverse("client_detail", args=[tenant.client.code])).content.decode()
    assert "аррӏе.com (xn--80ak6aa92e.com)" in client_page
    edit = http.get(reverse("domain_edit", args=[domain.code])).content.decode()
    assert "Edit аррӏе.com (xn--80ak6aa92e.com)" in edit
    assert 'value="аррӏе.com"' in edit  # the name field keeps a name that parses again
    run = AuditRun.objects.create(domain=domain, state=AuditRun.State.DONE, verdict="go", finished_at=timezone.now())
    AuditFinding.objects.create(
        run=run, check_id="dns.caa.missing", subject=domain.name, area="dns", severity="low",
        item="domain_setup", title="No CAA record", explanation="e", fix="f",
    )  # fmt: skip
    risks = http.get(reverse("client_risks", args=[tenant.client.code])).content.decode()
    assert risks.count("аррӏе.com (xn--80ak6aa92e.com)") >= 2  # the latest runs and the finding's source


def test_an_honest_international_domain_needs_no_confirmation(tenant: Tenant) -> None:
    response = login(tenant.consultant).post(
        reverse("domain_new", args=[tenant.client.code]),
        {"name": "bücher.de", "canonical_host": "www", "hosting_provider": "other", "deploy_method": "git_push"},
    )
    assert response.status_code == 302
    assert Domain.objects.get(name="xn--bcher-kva.de").display_name == "bücher.de"
