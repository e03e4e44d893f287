"""Sign-in protections: rate limits on login, sign-up and reset, and two-factor rules per workspace."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client as HttpClient
from django.urls import reverse

from tests.conftest import Tenant, login
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_login_is_rate_limited_after_repeated_failures() -> None:
    user = UserFactory()
    browser = HttpClient()
    answers = [
        browser.post(reverse("account_login"), {"login": user.email, "password": "wrong-password"}) for _ in range(6)
    ]
    assert answers[-1].status_code == 429 and "Too many failed sign-ins" in answers[-1].content.decode()
    ok = browser.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert ok.status_code == 429  # still locked out, from this address


def test_a_correct_password_signs_in() -> None:
    user = UserFactory()
    response = HttpClient().post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302


def test_signup_is_rate_limited() -> None:
    browser = HttpClient()
    statuses = [
        browser.post(
            reverse("account_signup"), {"email": f"new{i}@example.com", "password1": PASSWORD, "password2": PASSWORD}
        ).status_code
        for i in range(22)
    ]
    assert 429 in statuses
    assert statuses[0] == 302


def test_password_reset_is_rate_limited() -> None:
    user = UserFactory()
    browser = HttpClient()
    answers = [browser.post(reverse("account_reset_password"), {"email": user.email}) for _ in range(7)]
    assert answers[0].status_code == 302
    assert any(a.status_code == 429 or "Too many" in a.content.decode() for a in answers[1:])


def test_signup_rejects_a_weak_password_and_a_bad_address() -> None:
    response = HttpClient().post(
        reverse("account_signup"), {"email": "not-an-email", "password1": "123", "password2": "123"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid email address" in page


def test_a_workspace_that_requires_mfa_sends_members_to_set_it_up(tenant: Tenant) -> None:
    workspace = tenant.client.workspace
    workspace.require_mfa = True
    workspace.save()
    http = login(tenant.consultant)
    response = http.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    setup = http.get(reverse("mfa_activate_totp"), follow=True)  # allauth may ask for the password first
    assert setup.status_code == 200
    assert all(url.startswith("/accounts/") for url, _ in setup.redirect_chain)
    Authenticator.objects.create(user=tenant.consultant, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert http.get(reverse("dashboard")).status_code == 200


def test_the_owner_can_require_mfa(tenant: Tenant) -> None:
    login(tenant.owner).post(reverse("workspace_settings"), {"name": "Renamed", "require_mfa": "on"})
    tenant.client.workspace.refresh_from_db()
    assert tenant.client.workspace.require_mfa and tenant.client.workspace.name == "Renamed"


def test_sign_in_pages_are_styled_and_carry_no_inline_script() -> None:
    page = HttpClient().get(reverse("account_login")).content.decode()
    assert "/static/css/app.css" in page and 'class="auth-card"' in page
    assert "<script>" not in page and "style=" not in page


def test_every_model_has_a_working_admin(admin_client) -> None:  # type: ignore[no-untyped-def]
    from django.contrib import admin

    ours = [m for m in admin.site._registry if m._meta.app_label in {"accounts", "launchready"}]
    assert {m.__name__ for m in ours} >= {
        "User",
        "Workspace",
        "Membership",
        "Invitation",
        "Client",
        "Contact",
        "Domain",
        "Route",
        "Sprint",
    }
    for model in ours:
        opts = model._meta
        assert admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 200


def test_a_new_consultant_verifies_their_address_before_signing_in() -> None:
    from django.core import mail

    browser = HttpClient()
    response = browser.post(
        reverse("account_signup"), {"email": "new@studio.example", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "Confirm" in mail.outbox[-1].subject or "confirm" in mail.outbox[-1].body.lower()
    link = next(line for line in mail.outbox[-1].body.splitlines() if "/accounts/confirm-email/" in line).strip()
    assert browser.get(reverse("dashboard")).status_code == 302  # not signed in yet
    browser.post(link[link.index("/accounts/") :])
    assert browser.get("/")["Location"] == reverse("workspace_new")


def test_password_reset_sends_a_link() -> None:
    from django.core import mail

    user = UserFactory()
    HttpClient().post(reverse("account_reset_password"), {"email": user.email})
    assert mail.outbox[-1].to == [user.email]
    assert "/accounts/password/reset/key/" in mail.outbox[-1].body
