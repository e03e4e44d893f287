"""A founder's reach over the account pages: they follow one client and run no workspace of their own.

Every page of accounts/urls.py is in the table below with what a founder gets there; a new page fails
`test_every_account_page_has_a_founder_answer` until it is added, with its answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client as HttpClient
from django.urls import URLPattern, reverse

from accounts import urls as account_urls
from accounts.models import Invitation, Membership, Role, Workspace, hash_token
from tests.conftest import Tenant, login
from tests.factories import ClientFactory, InvitationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _workspace_new(http: HttpClient, t: Tenant) -> HttpResponse:
    return http.post(reverse("workspace_new"), {"name": "Founder Ventures"})


def _switch_to_a_stranger(http: HttpClient, t: Tenant) -> HttpResponse:
    return http.post(reverse("workspace_switch"), {"workspace": str(Workspace.objects.create(name="Other").code)})


def _settings(http: HttpClient, t: Tenant) -> HttpResponse:
    return http.post(reverse("workspace_settings"), {"name": "Hijacked", "require_mfa": ""})


def _activity(http: HttpClient, t: Tenant) -> HttpResponse:
    return http.get(reverse("activity_log"))


def _invite_colleague(http: HttpClient, t: Tenant) -> HttpResponse:
    return http.post(reverse("colleague_invite"), {"email": "friend@example.com", "role": "owner"})


def _remove_owner(http: HttpClient, t: Tenant) -> HttpResponse:
    owner = Membership.objects.get(workspace=t.workspace, user=t.owner)
    return http.post(reverse("member_remove", args=[owner.code]))


def _withdraw(http: HttpClient, t: Tenant) -> HttpResponse:
    invitation = InvitationFactory(workspace=t.workspace, email="colleague@example.com")
    return http.post(reverse("invitation_withdraw", args=[invitation.code]))


def _invite_founder(http: HttpClient, t: Tenant) -> HttpResponse:
    return http.post(reverse("founder_invite", args=[t.client.code]), {"email": "cofounder@example.com"})


def _accept_someone_elses(http: HttpClient, t: Tenant) -> HttpResponse:
    InvitationFactory(
        workspace=t.workspace, email="colleague@example.com", role=Role.OWNER, token_hash=hash_token("for-a-colleague")
    )
    return http.post(reverse("invitation_accept", args=["for-a-colleague"]))


# What a founder gets on each account page (the worst thing they could try there).
FOUNDER_ANSWERS: dict[str, tuple[Callable[[HttpClient, Tenant], HttpResponse], int]] = {
    "workspace_new": (_workspace_new, 302),  # refused: back to their client, with a message
    "workspace_switch": (_switch_to_a_stranger, 404),
    "workspace_settings": (_settings, 404),
    "activity_log": (_activity, 404),
    "colleague_invite": (_invite_colleague, 404),
    "member_remove": (_remove_owner, 404),
    "invitation_withdraw": (_withdraw, 404),
    "founder_invite": (_invite_founder, 403),
    "invitation_accept": (_accept_someone_elses, 200),  # "this invitation is for another address"
}


def test_every_account_page_has_a_founder_answer() -> None:
    names = {p.name for p in account_urls.urlpatterns if isinstance(p, URLPattern)}
    assert names == set(FOUNDER_ANSWERS)


def _state(t: Tenant) -> tuple[object, ...]:
    """What a founder must not be able to change: their memberships, the workspace and its people."""
    workspace = Workspace.objects.get(pk=t.workspace.pk)
    return (
        list(Membership.objects.filter(user=t.founder).values_list("workspace_id", "role", "client_id")),
        (workspace.name, workspace.require_mfa),
        sorted(Membership.objects.filter(workspace=workspace).values_list("user_id", "role")),
        list(Invitation.objects.filter(revoked_at__isnull=False).values_list("id")),
        list(Invitation.objects.filter(accepted_at__isnull=False).values_list("id")),
    )


@pytest.mark.parametrize("name", sorted(FOUNDER_ANSWERS))
def test_a_founder_changes_nothing_through_an_account_page(tenant: Tenant, name: str) -> None:
    attempt, status = FOUNDER_ANSWERS[name]
    before = _state(tenant)
    response = attempt(login(tenant.founder), tenant)
    assert response.status_code == status
    assert _state(tenant) == before
    assert not Invitation.objects.filter(invited_by=tenant.founder).exists()
    assert not Workspace.objects.filter(name="Founder Ventures").exists()


def test_a_founder_asking_for_a_new_workspace_is_sent_back_to_their_client_with_the_reason(tenant: Tenant) -> None:
    http = login(tenant.founder)
    response = http.get(reverse("workspace_new"))
    assert response["Location"] == reverse("home")
    home = http.get(response["Location"])
    assert home["Location"] == reverse("client_detail", args=[tenant.client.code])
    [message] = [str(m) for m in get_messages(home.wsgi_request)]
    assert "Workspaces are for consultancies" in message and tenant.client.name in message
    assert "sign up with another email address" in message
    page = http.get(home["Location"]).content.decode()
    assert tenant.client.name in page


def test_a_founder_of_two_clients_is_refused_too_and_a_consultant_who_is_also_a_founder_is_not(tenant: Tenant) -> None:
    other_client = ClientFactory()
    MembershipFactory(user=tenant.founder, workspace=other_client.workspace, role=Role.FOUNDER, client=other_client)
    assert login(tenant.founder).post(reverse("workspace_new"), {"name": "Mine"}).status_code == 302
    assert not Workspace.objects.filter(name="Mine").exists()
    MembershipFactory(user=tenant.founder, role=Role.CONSULTANT)  # they also work for a consultancy
    http = login(tenant.founder)
    assert http.get(reverse("workspace_new")).status_code == 200
    http.post(reverse("workspace_new"), {"name": "Mine"})
    assert Membership.objects.get(user=tenant.founder, workspace__name="Mine").role == Role.OWNER


def test_someone_with_no_workspace_yet_creates_one(outsider) -> None:  # type: ignore[no-untyped-def]
    http = login(outsider)
    assert http.get(reverse("workspace_new")).status_code == 200
    assert http.post(reverse("workspace_new"), {"name": "Solo Studio"})["Location"] == reverse("dashboard")
    assert Membership.objects.get(user=outsider).role == Role.OWNER
