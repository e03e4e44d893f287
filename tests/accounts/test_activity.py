"""The activity log: what is recorded, who can read it (the workspace owner only), paging and filters."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.urls import reverse

from accounts.activity import network_of, record_activity
from accounts.invitations import invitation_accept, invitation_create
from accounts.models import Activity, Role
from monitoring.models import ApiToken
from tests.conftest import Tenant, login
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _verbs(tenant: Tenant) -> list[str]:
    return list(Activity.objects.filter(workspace=tenant.workspace).values_list("verb", flat=True))


def test_a_sign_in_is_recorded_in_each_workspace_with_the_address_truncated(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    MembershipFactory(user=tenant.consultant, workspace=other_tenant.workspace, role=Role.CONSULTANT)
    browser = HttpClient(REMOTE_ADDR="203.0.113.77")
    browser.post(reverse("account_login"), {"login": tenant.consultant.email, "password": PASSWORD})
    for workspace in (tenant.workspace, other_tenant.workspace):
        row = Activity.objects.get(workspace=workspace, verb="auth.signed_in")
        assert row.actor_email == tenant.consultant.email
        assert row.ip_network == "203.0.113.0/24"


def test_addresses_keep_only_their_network() -> None:
    assert network_of("198.51.100.23") == "198.51.100.0/24"
    assert network_of("2001:db8:abcd:12::1") == "2001:db8:abcd::/48"
    assert network_of("not an address") == ""


def test_tokens_exports_and_deletions_are_recorded_without_secrets(tenant: Tenant) -> None:
    http = login(tenant.owner)
    http.post(reverse("deploy_tokens", args=[tenant.client.code]), {"name": "GitHub Actions"})
    token = ApiToken.objects.get(client=tenant.client)
    http.post(reverse("deploy_token_revoke", args=[token.code]))
    http.get(reverse("client_risks_json", args=[tenant.client.code]))
    http.post(
        reverse("alert_channels", args=[tenant.client.code]),
        {"kind": "webhook", "name": "Ops", "url": "https://hooks.example.com/x"},
    )
    name = tenant.client.name
    http.post(reverse("client_delete", args=[tenant.client.code]), {"confirm_name": name})
    http.post(reverse("workspace_settings"), {"name": tenant.workspace.name, "require_mfa": "on"})
    assert set(_verbs(tenant)) >= {
        "token.created",
        "token.revoked",
        "export.downloaded",
        "channel.created",
        "workspace.mfa_required",
        "client.deleted",
    }
    rows = list(Activity.objects.filter(workspace=tenant.workspace).values_list("target", flat=True))
    assert f"Client: {name}" in rows and "API token: GitHub Actions" in rows
    text = " ".join(rows)
    assert "lr_" not in text and "hooks.example.com" not in text and "whsec_" not in text


def test_invitations_sent_and_accepted_are_recorded_without_the_invitee_address(tenant: Tenant) -> None:
    invitation = invitation_create(
        workspace=tenant.workspace,
        email="new.founder@example.org",
        role=Role.FOUNDER,
        client=tenant.client,
        invited_by=tenant.consultant,
    )
    invitation_accept(invitation=invitation, user=UserFactory(email="new.founder@example.org"))
    rows = Activity.objects.filter(workspace=tenant.workspace, verb__startswith="invitation.")
    assert {r.verb for r in rows} == {"invitation.sent", "invitation.accepted"}
    assert all("new.founder" not in r.target for r in rows)
    assert rows.get(verb="invitation.sent").target == f"Founder invitation for {tenant.client.name}"


def test_two_factor_changes_are_recorded(tenant: Tenant) -> None:
    authenticator = Authenticator(user=tenant.consultant, type=Authenticator.Type.TOTP, data={})
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.9")
    authenticator_added.send(Authenticator, request=request, user=tenant.consultant, authenticator=authenticator)
    authenticator_removed.send(Authenticator, request=request, user=tenant.consultant, authenticator=authenticator)
    assert {"mfa.enabled", "mfa.disabled"} <= set(_verbs(tenant))


def test_only_the_owner_reads_the_log(tenant: Tenant, other_tenant: Tenant) -> None:
    record_activity(tenant.workspace, tenant.consultant, "export.downloaded", "Risk list")
    record_activity(other_tenant.workspace, other_tenant.consultant, "token.created", "API token: theirs")
    page = login(tenant.owner).get(reverse("activity_log"))
    assert page.status_code == 200
    text = page.content.decode()
    assert tenant.consultant.email in text and "Downloaded an export" in text
    assert "theirs" not in text and other_tenant.consultant.email not in text
    assert login(tenant.consultant).get(reverse("activity_log")).status_code == 404
    assert login(tenant.founder).get(reverse("activity_log")).status_code == 404
    assert HttpClient().get(reverse("activity_log")).status_code == 302


def test_the_log_pages_and_filters(tenant: Tenant, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for n in range(120):
        record_activity(
            tenant.workspace, tenant.consultant if n % 2 else tenant.owner, "export.downloaded", f"export {n}"
        )
    record_activity(tenant.workspace, tenant.owner, "token.created", "API token: CI")
    http = login(tenant.owner)
    with django_assert_max_num_queries(12):
        first = http.get(reverse("activity_log")).content.decode()
    assert "API token: CI" in first and "Page 1 of 3" in first
    last = http.get(reverse("activity_log") + "?page=3").content.decode()
    assert "export 0" in last
    tokens = http.get(reverse("activity_log") + "?verb=token").content.decode()
    assert "API token: CI" in tokens and "export 1" not in tokens
    theirs = http.get(reverse("activity_log") + f"?actor={tenant.consultant.email}").content.decode()
    assert "· export 119</span>" in theirs and "· export 118</span>" not in theirs
    assert http.get(reverse("activity_log") + "?verb=<script>&page=999").status_code == 200


def test_an_unknown_verb_is_refused(tenant: Tenant) -> None:
    with pytest.raises(ValueError, match="unknown activity verb"):
        record_activity(tenant.workspace, tenant.owner, "did.something")


def test_old_lines_are_pruned_after_the_retention(tenant: Tenant) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from accounts.activity import RETENTION
    from accounts.tasks import prune_activity

    old = record_activity(tenant.workspace, tenant.owner, "export.downloaded", "old")
    Activity.objects.filter(pk=old.pk).update(created=timezone.now() - RETENTION - timedelta(days=1))
    kept = record_activity(tenant.workspace, tenant.owner, "export.downloaded", "recent")
    assert prune_activity() == 1
    assert list(Activity.objects.values_list("pk", flat=True)) == [kept.pk]
