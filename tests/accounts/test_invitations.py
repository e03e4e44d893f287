"""Invitations: a consultant invites a founder or a colleague; the link works once, for its address."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from accounts.invitations import InvitationError, invitation_accept, invitation_create, invitation_for_token
from accounts.models import Invitation, Membership, Role, User, hash_token
from tests.conftest import Tenant, login
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _invite_founder(tenant: Tenant, email: str, capture) -> str:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        response = login(tenant.consultant).post(reverse("founder_invite", args=[tenant.client.code]), {"email": email})
    assert response.status_code == 302
    message = mail.outbox[-1]
    match = re.search(r"http://[^\s]+/invitations/([\w\-]+)/", message.body)
    assert match, message.body
    return match.group(1)


def test_the_founder_invitation_email_reads_well(
    tenant: Tenant, eager_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    token = _invite_founder(tenant, "Founder@NewCo.example", django_capture_on_commit_callbacks)
    message = mail.outbox[-1]
    assert message.to == ["founder@newco.example"]
    assert message.subject == f"Follow {tenant.client.name}'s launch on Launch Ready"
    assert tenant.consultant.get_full_name() in message.body
    html = message.alternatives[0][0]
    assert f"/invitations/{token}/" in html and "Accept the invitation" in html
    invitation = Invitation.objects.get(email="founder@newco.example")
    assert invitation.token_hash == hash_token(token)
    assert token not in str(Invitation.objects.values_list())  # only the hash is stored
    assert invitation.sent_at is not None


def test_a_new_founder_signs_up_from_the_link_without_a_second_email(
    tenant: Tenant, eager_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    token = _invite_founder(tenant, "newfounder@newco.example", django_capture_on_commit_callbacks)
    browser = HttpClient()
    accept_url = reverse("invitation_accept", args=[token])
    page = browser.get(accept_url).content.decode()
    assert tenant.client.name in page and "Create your account" in page
    sent = len(mail.outbox)
    response = browser.post(
        reverse("account_signup") + f"?next={accept_url}",
        {"email": "newfounder@newco.example", "password1": PASSWORD, "password2": PASSWORD, "next": accept_url},
    )
    assert response.status_code == 302 and response["Location"] == accept_url
    assert len(mail.outbox) == sent  # no verification email: the invitation proved the address
    assert EmailAddress.objects.get(email="newfounder@newco.example").verified
    response = browser.post(accept_url)
    membership = Membership.objects.get(user__email="newfounder@newco.example")
    assert (membership.role, membership.client) == (Role.FOUNDER, tenant.client)
    assert browser.get("/")["Location"] == reverse("client_detail", args=[tenant.client.code])


def test_the_link_works_once(tenant: Tenant) -> None:
    invitation = invitation_create(
        workspace=tenant.client.workspace, email="c@example.com", role=Role.CONSULTANT, invited_by=tenant.owner
    )
    token = "known-token"
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=hash_token(token))
    user = UserFactory(email="c@example.com")
    invitation_accept(invitation=invitation_for_token(token), user=user)
    with pytest.raises(InvitationError, match="already been used"):
        invitation_for_token(token)
    with pytest.raises(InvitationError, match="already been used"):
        invitation_accept(invitation=invitation, user=user)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"expires": timezone.now() - timedelta(minutes=1)}, "expired"),
        ({"revoked_at": timezone.now()}, "withdrawn"),
    ],
)
def test_expired_and_withdrawn_links_say_why(tenant: Tenant, change: dict, reason: str) -> None:  # type: ignore[type-arg]
    invitation = invitation_create(
        workspace=tenant.client.workspace, email="c@example.com", role=Role.CONSULTANT, invited_by=tenant.owner
    )
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=hash_token("tok"), **change)
    response = HttpClient().get(reverse("invitation_accept", args=["tok"]))
    assert response.status_code == 404
    assert reason in response.content.decode()


def test_an_unknown_token_is_a_clear_404() -> None:
    response = HttpClient().get(reverse("invitation_accept", args=["x" * 500]))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_a_signed_in_user_with_another_address_cannot_take_it(tenant: Tenant, other_tenant: Tenant) -> None:
    invitation = invitation_create(
        workspace=tenant.client.workspace,
        email="someone@example.com",
        role=Role.FOUNDER,
        client=tenant.client,
        invited_by=tenant.owner,
    )
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=hash_token("tok"))
    http = login(other_tenant.consultant)
    page = http.get(reverse("invitation_accept", args=["tok"])).content.decode()
    assert "you are signed in as" in page
    http.post(reverse("invitation_accept", args=["tok"]))
    assert not Membership.objects.filter(user=other_tenant.consultant, workspace=tenant.client.workspace).exists()


def test_a_colleague_invitation_from_the_team_page(
    tenant: Tenant, eager_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        login(tenant.owner).post(reverse("colleague_invite"), {"email": "pat@studio.example", "role": "consultant"})
    assert mail.outbox[-1].subject == f"Join {tenant.client.workspace.name} on Launch Ready"
    page = login(tenant.owner).get(reverse("workspace_settings")).content.decode()
    assert "pat@studio.example" in page


def test_a_bad_invitation_address_is_a_clear_error(tenant: Tenant) -> None:
    response = login(tenant.consultant).post(
        reverse("founder_invite", args=[tenant.client.code]), {"email": "not an address"}, follow=True
    )
    assert "Enter a valid email address" in response.content.decode()
    assert not Invitation.objects.exists()


def test_only_owners_manage_the_team(tenant: Tenant) -> None:
    assert login(tenant.consultant).get(reverse("workspace_settings")).status_code == 404
    assert (
        login(tenant.founder).post(reverse("colleague_invite"), {"email": "x@y.co", "role": "owner"}).status_code == 404
    )
    assert login(tenant.owner).get(reverse("workspace_settings")).status_code == 200


def test_the_last_owner_cannot_be_removed(tenant: Tenant) -> None:
    owner_membership = Membership.objects.get(user=tenant.owner)
    second_owner = UserFactory()
    Membership.objects.create(user=second_owner, workspace=tenant.client.workspace, role=Role.CONSULTANT)
    http = login(tenant.owner)
    http.post(reverse("member_remove", args=[owner_membership.code]))
    assert Membership.objects.filter(pk=owner_membership.pk).exists()


def test_withdrawing_an_invitation_stops_the_link(tenant: Tenant) -> None:
    invitation = invitation_create(
        workspace=tenant.client.workspace, email="c@example.com", role=Role.CONSULTANT, invited_by=tenant.owner
    )
    login(tenant.consultant).post(
        reverse("invitation_withdraw", args=[invitation.code]), {"next": "https://evil.example/"}
    )
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_the_withdraw_redirect_never_leaves_the_site(tenant: Tenant) -> None:
    invitation = invitation_create(
        workspace=tenant.client.workspace, email="c@example.com", role=Role.CONSULTANT, invited_by=tenant.owner
    )
    response = login(tenant.owner).post(
        reverse("invitation_withdraw", args=[invitation.code]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("workspace_settings")


def test_users_are_created_with_lower_case_email() -> None:
    user = User.objects.create_user(email="Mixed@Example.COM", password=PASSWORD)
    assert user.email == "mixed@example.com"
