"""Sudo: sensitive actions ask for the password again once the last sign-in is older than the window,
then carry on where the person left off. Strangers still get a 404, never a password prompt."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Activity
from launchready.models import Client
from monitoring.models import AlertChannel, ApiToken
from tests.conftest import Tenant, login
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
STALE = 3600  # seconds since the last sign-in: outside the ten-minute window
REAUTH = reverse("account_reauthenticate")


def _asks_for_password(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and response["Location"].startswith(REAUTH)


def test_a_token_needs_a_recent_sign_in_and_is_created_once_the_password_is_confirmed(tenant: Tenant) -> None:
    http = login(tenant.consultant, authenticated_ago=STALE)
    url = reverse("deploy_tokens", args=[tenant.client.code])
    response = http.post(url, {"name": "GitHub Actions"})
    assert _asks_for_password(response)
    assert not ApiToken.objects.filter(client=tenant.client).exists()
    page = http.get(response["Location"])
    assert page.status_code == 200 and "Confirm it's you" in page.content.decode()
    assert "password" in page.content.decode().lower()
    wrong = http.post(response["Location"], {"password": "not-my-password"})
    assert wrong.status_code == 200 and not ApiToken.objects.filter(client=tenant.client).exists()
    http.post(response["Location"], {"password": PASSWORD})
    assert ApiToken.objects.filter(client=tenant.client, name="GitHub Actions").count() == 1
    # Within the window now: the next sensitive action goes straight through.
    http.post(url, {"name": "Second"})
    assert ApiToken.objects.filter(client=tenant.client).count() == 2


def test_a_recent_sign_in_goes_straight_through(tenant: Tenant) -> None:
    http = login(tenant.consultant, authenticated_ago=60)
    response = http.post(reverse("deploy_tokens", args=[tenant.client.code]), {"name": "CI"})
    assert response.status_code == 302 and not response["Location"].startswith(REAUTH)
    assert ApiToken.objects.filter(client=tenant.client).exists()


def test_every_sensitive_action_asks_for_the_password_when_the_sign_in_is_old(tenant: Tenant) -> None:
    token = ApiToken.objects.create(client=tenant.client, name="CI", prefix="abc123def456", digest="x")
    channel = AlertChannel.objects.create(client=tenant.client, kind="email", name="Founders")
    owner = login(tenant.owner, authenticated_ago=STALE)
    actions = [
        (reverse("deploy_token_revoke", args=[token.code]), {}),
        (reverse("alert_channels", args=[tenant.client.code]), {"kind": "email", "name": "Ops"}),
        (reverse("alert_channel_toggle", args=[channel.code]), {}),
        (reverse("client_delete", args=[tenant.client.code]), {"confirm_name": tenant.client.name}),
        (reverse("workspace_settings"), {"name": tenant.workspace.name, "require_mfa": "on"}),
        (reverse("assistant_probe", args=[tenant.client.code]), {}),
    ]
    for url, data in actions:
        assert _asks_for_password(owner.post(url, data)), url
    token.refresh_from_db()
    channel.refresh_from_db()
    tenant.workspace.refresh_from_db()
    assert token.revoked_at is None and channel.enabled
    assert AlertChannel.objects.filter(client=tenant.client).count() == 1
    assert Client.objects.filter(pk=tenant.client.pk).exists()
    assert not tenant.workspace.require_mfa
    assert not Activity.objects.filter(verb__in=["token.revoked", "client.deleted", "channel.created"]).exists()


def test_deleting_a_client_resumes_after_the_password(tenant: Tenant) -> None:
    http = login(tenant.owner, authenticated_ago=STALE)
    response = http.post(reverse("client_delete", args=[tenant.client.code]), {"confirm_name": tenant.client.name})
    assert _asks_for_password(response)
    done = http.post(response["Location"], {"password": PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("dashboard")
    assert not Client.objects.filter(pk=tenant.client.pk).exists()


def test_renaming_the_workspace_is_not_sensitive(tenant: Tenant) -> None:
    http = login(tenant.owner, authenticated_ago=STALE)
    response = http.post(reverse("workspace_settings"), {"name": "Renamed"})
    assert response.status_code == 302 and response["Location"] == reverse("workspace_settings")
    tenant.workspace.refresh_from_db()
    assert tenant.workspace.name == "Renamed"


def test_strangers_get_a_404_not_a_password_prompt(tenant: Tenant, other_tenant: Tenant) -> None:
    stranger = login(other_tenant.owner, authenticated_ago=STALE)
    assert stranger.post(reverse("client_delete", args=[tenant.client.code])).status_code == 404
    assert stranger.post(reverse("deploy_tokens", args=[tenant.client.code]), {"name": "x"}).status_code == 404


def test_a_webhook_url_is_never_parked_in_the_session_while_the_password_is_confirmed(tenant: Tenant) -> None:
    from django.contrib.sessions.models import Session

    http = login(tenant.consultant, authenticated_ago=STALE)
    url = reverse("alert_channels", args=[tenant.client.code])
    assert _asks_for_password(http.get(url))
    secret_url = "https://hooks.slack.com/services/T000/B000/secretsecret"
    assert _asks_for_password(http.post(url, {"kind": "slack", "name": "Ops", "url": secret_url}))
    assert not any("secretsecret" in str(s.get_decoded()) for s in Session.objects.all())
    confirmed = http.post(reverse("account_reauthenticate") + f"?next={url}", {"password": PASSWORD})
    assert confirmed["Location"] == url
    assert http.get(url).status_code == 200
