"""Rate limits: the attempt after the limit gets a 429 with a clear message, on every guarded door."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse

from accounts.models import Invitation
from accounts.ratelimits import in_words
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
    assert limits["login"] == "30/m/ip" and limits["login_failed"] == "10/m/ip,50/15m/key"
    assert limits["login_failed_here"] == "5/5m/key"
    assert limits["signup"] == "20/m/ip" and limits["reset_password"] == "20/m/ip,5/m/key"
    assert limits["invite"] == "20/h/user,40/h/ip" and limits["api_deploys"] == "60/m/key,120/m/ip"
    assert limits["api_deploys_failed"] == "10/m/ip" and limits["api_deploys_wrong_secret"] == "30/m/key"


def test_the_readme_states_the_rates() -> None:
    readme = " ".join((Path(settings.BASE_DIR) / "README.md").read_text().split())
    for stated in (
        "sign-in 30/min per address",
        "5 failed sign-ins per 5 min per account from one address",
        "10/min per address",
        "50 per 15 min per account from all addresses together",
        "60/min per valid token and 120/min per address",
        "failed token checks 10/min per address and 30/min per token after a wrong secret",
        "a 429 with a clear message and a Retry-After header",
    ):
        assert stated in readme, stated


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


def _wait(response: HttpResponse, window: int) -> int:
    """The Retry-After of a 429, checked to be a whole number of seconds within the rate's window."""
    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= window
    return seconds


def test_an_address_that_keeps_failing_token_checks_gets_429_and_a_valid_token_from_it_still_deploys(
    tenant: Tenant,
) -> None:
    _, value = token_create(client=tenant.client, name="CI", user=tenant.owner)
    browser = HttpClient(REMOTE_ADDR="203.0.113.9")  # an office, a proxy: one address for many
    limit = _limit("api_deploys_failed", "ip")
    statuses = [_deploy(browser, f"lr_guess{i:06d}_nope") for i in range(limit)]
    assert set(statuses) == {401}
    response = browser.post(reverse("api_deploys"), "{}", content_type="application/json")
    seconds = _wait(response, 60)
    assert response.json() == {"error": f"too many requests: retry in {in_words(seconds)}", "retry_after": seconds}
    assert _deploy(browser, "lr_guess999999_nope") == 429
    assert _deploy(browser, value) == 201


def test_bad_secrets_with_a_real_prefix_get_429_while_the_real_ci_keeps_deploying(
    tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    token, value = token_create(client=tenant.client, name="CI", user=tenant.owner)
    attacker, ci = HttpClient(REMOTE_ADDR="203.0.113.66"), HttpClient(REMOTE_ADDR="198.51.100.7")
    # More guesses than the token's own budget: counted per prefix first, they would lock the CI out.
    guesses = [f"lr_{token.prefix}_guess{i:04d}" for i in range(_limit("api_deploys", "key") + 10)]
    attacker_statuses, ci_statuses = [], []
    for i, guess in enumerate(guesses):
        attacker_statuses.append(_deploy(attacker, guess))
        if i % 7 == 6:
            ci_statuses.append(_deploy(ci, value))
    limit = _limit("api_deploys_failed", "ip")
    assert attacker_statuses == [401] * limit + [429] * (len(guesses) - limit)  # the attacker's view
    assert ci_statuses == [201] * 10  # the owner's view: the real CI never noticed
    secret = value.split("_", 2)[2]
    lines = [r.getMessage() for r in caplog.records if r.name == "monitoring.api"]
    assert f"deploy API 401: refused: wrong secret for token #{token.pk}" in lines
    assert all(secret not in line and "guess" not in line for line in lines)


def test_bad_secrets_spread_over_many_addresses_are_counted_per_prefix_and_never_lock_the_token(
    tenant: Tenant,
) -> None:
    token, value = token_create(client=tenant.client, name="CI", user=tenant.owner)
    limit = _limit("api_deploys_wrong_secret", "key")
    statuses = [
        _deploy(HttpClient(REMOTE_ADDR=f"192.0.2.{i + 1}"), f"lr_{token.prefix}_guess{i:04d}") for i in range(limit + 2)
    ]
    assert statuses == [401] * limit + [429] * 2
    assert _deploy(HttpClient(REMOTE_ADDR="192.0.2.250"), f"lr_{token.prefix}_one_more") == 429
    assert _deploy(HttpClient(REMOTE_ADDR="198.51.100.7"), value) == 201
    # Another token of the same client is not touched either.
    _, other = token_create(client=tenant.client, name="Staging CI", user=tenant.owner)
    assert _deploy(HttpClient(REMOTE_ADDR="192.0.2.251"), other) == 201


def test_unknown_tokens_are_counted_per_address_only(tenant: Tenant) -> None:
    _, value = token_create(client=tenant.client, name="CI", user=tenant.owner)
    for i in range(3 * _limit("api_deploys_wrong_secret", "key")):
        assert _deploy(HttpClient(REMOTE_ADDR=f"192.0.2.{i % 250 + 1}"), f"lr_{i:012x}_nope") in (401, 429)
    assert _deploy(HttpClient(REMOTE_ADDR="198.51.100.7"), value) == 201


# --- Sign-in: the attacker locks out only their own address ----------------------------------------


def _sign_in(browser: HttpClient, email: str, password: str, **headers: str) -> HttpResponse:
    return browser.post(reverse("account_login"), {"login": email, "password": password}, headers=headers)


def test_wrong_passwords_from_one_address_get_a_429_with_retry_after(caplog: pytest.LogCaptureFixture) -> None:
    user = UserFactory()
    attacker = HttpClient(REMOTE_ADDR="203.0.113.66")
    limit = _limit("login_failed_here", "key")
    for _ in range(limit):
        response = _sign_in(attacker, user.email, "wrong-guess-123")
        assert response.status_code == 200 and "password you specified are not correct" in response.content.decode()
    response = _sign_in(attacker, user.email, "wrong-guess-123")
    seconds = _wait(response, 300)
    page = response.content.decode()
    assert "Too many failed sign-ins" in page and "minute" in page and "wrong-guess" not in page
    assert reverse("account_reset_password") in page, "the page the message points to is one click away"
    # From that address even the right password waits: it could be the attacker's lucky guess.
    assert _sign_in(attacker, user.email, PASSWORD).status_code == 429
    assert seconds > 240  # the window is five minutes, counted from the first failure
    assert "wrong-guess" not in caplog.text and PASSWORD not in caplog.text


def test_the_owner_signs_in_from_another_address_while_the_attacker_is_throttled() -> None:
    user = UserFactory()
    attacker = HttpClient(REMOTE_ADDR="203.0.113.66")
    for _ in range(3 * _limit("login_failed_here", "key")):
        _sign_in(attacker, user.email, "wrong-guess-123")
    assert _sign_in(attacker, user.email, "wrong-guess-123").status_code == 429
    owner = HttpClient(REMOTE_ADDR="198.51.100.7")
    typo = _sign_in(owner, user.email, "a-typo-of-mine")
    assert typo.status_code == 200 and "not correct" in typo.content.decode()
    response = _sign_in(owner, user.email, PASSWORD)
    assert response.status_code == 302
    assert owner.get(reverse("home")).status_code == 302  # signed in: home sends them on, not to sign-in
    assert owner.get(response["Location"]).wsgi_request.user == user


def test_an_attack_spread_over_many_addresses_is_still_slowed_by_the_account_wide_rate() -> None:
    user = UserFactory()
    per_address, account_wide = _limit("login_failed_here", "key"), _limit("login_failed", "key")
    for i in range(account_wide):
        browser = HttpClient(REMOTE_ADDR=f"192.0.2.{i // (per_address - 1) + 1}")
        assert _sign_in(browser, user.email, f"guess-{i}-xyz").status_code == 200
    response = _sign_in(HttpClient(REMOTE_ADDR="192.0.2.250"), user.email, PASSWORD)
    _wait(response, 15 * 60)
    assert "Too many failed sign-ins" in response.content.decode()


def test_one_address_trying_many_accounts_is_limited() -> None:
    users = UserFactory.create_batch(_limit("login_failed", "ip") + 1)
    browser = HttpClient(REMOTE_ADDR="203.0.113.66")
    statuses = [_sign_in(browser, u.email, "wrong-guess-123").status_code for u in users]
    assert statuses == [200] * (len(users) - 1) + [429]
    _wait(_sign_in(browser, users[0].email, "wrong-guess-123"), 60)
    assert _sign_in(HttpClient(REMOTE_ADDR="198.51.100.7"), users[0].email, PASSWORD).status_code == 302


def test_a_script_that_asks_for_json_gets_a_json_429_and_htmx_gets_the_429_status() -> None:
    user = UserFactory()
    attacker = HttpClient(REMOTE_ADDR="203.0.113.66")
    for _ in range(_limit("login_failed_here", "key")):
        _sign_in(attacker, user.email, "wrong-guess-123")
    response = _sign_in(attacker, user.email, "wrong-guess-123", Accept="application/json")
    seconds = _wait(response, 300)
    assert response["Content-Type"] == "application/json"
    assert response.json()["retry_after"] == seconds and "Too many failed sign-ins" in response.json()["error"]
    htmx = _sign_in(attacker, user.email, "wrong-guess-123", **{"HX-Request": "true"})
    _wait(htmx, 300)
    assert "Too many failed sign-ins" in htmx.content.decode()


def test_allauths_own_429s_carry_retry_after() -> None:
    browser = HttpClient(REMOTE_ADDR="203.0.113.5")
    for i in range(_limit("signup", "ip")):
        browser.post(
            reverse("account_signup"), {"email": f"n{i}@example.com", "password1": PASSWORD, "password2": PASSWORD}
        )
    response = browser.post(
        reverse("account_signup"), {"email": "late@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    _wait(response, 60)
    assert "Too many attempts" in response.content.decode()


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_client_addresses_are_counted_not_the_proxys() -> None:
    user = UserFactory()
    attacker = HttpClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.66")
    owner = HttpClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    for _ in range(_limit("login_failed_here", "key")):
        _sign_in(attacker, user.email, "wrong-guess-123")
    assert _sign_in(attacker, user.email, "wrong-guess-123").status_code == 429
    # A forged X-Forwarded-For is read past: the proxy appends the address it saw, the last one counts.
    forged = HttpClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.66")
    assert _sign_in(forged, user.email, "wrong-guess-123").status_code == 429
    assert _sign_in(owner, user.email, PASSWORD).status_code == 302


def test_a_password_reset_lifts_the_throttle_at_the_address_it_was_done_from(mailoutbox) -> None:  # type: ignore[no-untyped-def]
    user = UserFactory()
    browser = HttpClient(REMOTE_ADDR="198.51.100.7")
    for _ in range(_limit("login_failed_here", "key")):
        _sign_in(browser, user.email, "my-old-typo-1")
    assert _sign_in(browser, user.email, PASSWORD).status_code == 429
    browser.post(reverse("account_reset_password"), {"email": user.email})
    [link] = [word for word in mailoutbox[-1].body.split() if "/password/reset/key/" in word]
    set_password = browser.get(link.replace("http://testserver", ""))["Location"]
    new = "a-brand-new-passphrase-42"
    assert browser.post(set_password, {"password1": new, "password2": new}).status_code == 302
    assert _sign_in(browser, user.email, new).status_code == 302
