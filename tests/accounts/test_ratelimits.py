"""Rate limits: the attempt after the limit gets a 429 with a clear message, on every guarded door."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse

from accounts.models import Invitation
from monitoring.deploys import token_create
from tests.conftest import Tenant, login
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _limit(action: str, per: str) -> int:
    """The configured number of attempts for one action and one kind of key (ip, key, user)."""
    for rate in settings.ACCOUNT_RATE_LIMITS[action].split(","):
        amount, _, kind = rate.split("/")
        if kind == per:
            return int(amount)
    raise AssertionError(f"no {per} rate for {action}")


def test_the_rates_are_the_documented_ones() -> None:
    limits = settings.ACCOUNT_RATE_LIMITS
    assert limits["login"] == "30/m/ip" and limits["login_failed"] == "10/m/ip,5/5m/key"
    assert limits["signup"] == "20/m/ip" and limits["reset_password"] == "20/m/ip,5/m/key"
    assert limits["invite"] == "20/h/user,40/h/ip" and limits["api_deploys"] == "60/m/key,120/m/ip"


def test_sign_in_from_one_address_is_limited() -> None:
    user = UserFactory()
    browser = HttpClient()
    limit = _limit("login", "ip")
    for _ in range(limit):
        browser.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
        browser.post(reverse("account_logout"))
    response = browser.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many" in response.content.decode()


def test_sign_up_from_one_address_is_limited() -> None:
    browser = HttpClient()
    data = {"password1": PASSWORD, "password2": PASSWORD}
    for i in range(_limit("signup", "ip")):
        assert browser.post(reverse("account_signup"), {"email": f"n{i}@example.com", **data}).status_code == 302
    response = browser.post(reverse("account_signup"), {"email": "one.more@example.com", **data})
    assert response.status_code == 429 and "Too many" in response.content.decode()


def test_password_reset_for_one_address_is_limited() -> None:
    user = UserFactory()
    browser = HttpClient()
    for _ in range(_limit("reset_password", "key")):
        assert browser.post(reverse("account_reset_password"), {"email": user.email}).status_code == 302
    response = browser.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 429 and "Too many" in response.content.decode()


def test_sending_invitations_is_limited(tenant: Tenant) -> None:
    http = login(tenant.owner)
    limit = _limit("invite", "user")
    for i in range(limit):
        response = http.post(reverse("colleague_invite"), {"email": f"c{i}@example.com", "role": "consultant"})
        assert response.status_code == 302
    response = http.post(reverse("founder_invite", args=[tenant.client.code]), {"email": "late@example.com"})
    assert response.status_code == 429
    assert "Too many invitations" in response.content.decode()
    assert Invitation.objects.filter(workspace=tenant.workspace).count() == limit


def _deploy(browser: HttpClient, token: str) -> int:
    response = browser.post(
        reverse("api_deploys"),
        json.dumps({"version": "1.0"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code


def test_the_deploy_api_is_limited_per_token(tenant: Tenant) -> None:
    # (The smoke test is queued when the deploy's transaction commits: never, inside this test.)
    _, value = token_create(client=tenant.client, name="CI", user=tenant.owner)
    limit = _limit("api_deploys", "key")
    statuses = [_deploy(HttpClient(REMOTE_ADDR=f"198.51.100.{i % 200 + 1}"), value) for i in range(limit + 1)]
    assert statuses[:limit] == [201] * limit
    assert statuses[-1] == 429


def test_the_deploy_api_is_limited_per_address_before_any_token_lookup(tenant: Tenant) -> None:
    browser = HttpClient(REMOTE_ADDR="203.0.113.9")
    limit = _limit("api_deploys", "ip")
    statuses = [_deploy(browser, f"lr_guess{i:06d}_nope") for i in range(limit)]
    assert set(statuses) == {401}
    response = browser.post(reverse("api_deploys"), "{}", content_type="application/json")
    assert response.status_code == 429
    assert response.json() == {"error": "too many requests: slow down and retry in a minute"}
    assert response["Retry-After"] == "60"
