"""Deploy markers: the client's CI reports a deploy with a hashed, revocable token; the smoke test of the
key routes runs on the sandbox and a failure alerts the client's channels."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse

from launchready.models import Route
from launchready.sandbox.runner import Sandbox
from monitoring.deploys import smoke_test, token_create
from monitoring.models import AlertChannel, ApiToken, Deploy
from tests.conftest import Tenant, login
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db


def _post(token: str | None, body: object) -> object:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return HttpClient().post(reverse("api_deploys"), json.dumps(body), content_type="application/json", headers=headers)


def test_a_deploy_is_recorded_with_a_valid_token_only(tenant: Tenant, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    token, value = token_create(client=tenant.client, name="GitHub Actions", user=tenant.consultant)
    assert value.startswith(f"lr_{token.prefix}_") and value.split("_", 2)[2] not in token.digest
    assert _post(None, {"version": "v1"}).status_code == 401  # type: ignore[attr-defined]
    assert _post(value + "x", {"version": "v1"}).status_code == 401  # type: ignore[attr-defined]
    assert _post(value, ["not", "an", "object"]).status_code == 400  # type: ignore[attr-defined]
    assert _post(value, {"version": "v" * 101}).status_code == 400  # type: ignore[attr-defined]
    assert _post(value, {}).status_code == 400  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks():
        response = _post(value, {"version": "v1.4.2", "commit": "abc123", "environment": "production"})
    assert response.status_code == 201  # type: ignore[attr-defined]
    deploy = Deploy.objects.get()
    assert (deploy.client, deploy.version, deploy.smoke) == (tenant.client, "v1.4.2", "pending")
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=deploy.created)
    assert _post(value, {"version": "v2"}).status_code == 401  # type: ignore[attr-defined]


def _routes(tenant: Tenant, apex: str) -> None:
    domain = DomainFactory(client=tenant.client, name=apex)
    for host, path, kind in [("www", "/", "homepage"), ("app", "/login", "login"), ("api", "/health", "api_health")]:
        Route.objects.create(
            domain=domain, host="" if host == "www" else host, path=path, kind=kind, expected_statuses=[200]
        )


def test_the_smoke_test_passes_on_a_healthy_deploy(sandbox_env: Sandbox, tenant: Tenant) -> None:
    tenant.domain.delete()
    _routes(tenant, "launch-ready.test")
    deploy = smoke_test(Deploy.objects.create(client=tenant.client, version="v1"))
    assert deploy.smoke == "passed"
    assert [r["kind"] for r in deploy.smoke_results] == ["homepage", "login", "api_health"]


def test_a_failed_smoke_test_alerts_the_channels(
    sandbox_env: Sandbox, tenant: Tenant, eager_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    tenant.domain.delete()
    _routes(tenant, "login-500.test")
    AlertChannel.objects.create(client=tenant.client, kind="email", name="Team", recipients=["ops@example.com"])
    with django_capture_on_commit_callbacks(execute=True):
        deploy = smoke_test(Deploy.objects.create(client=tenant.client, version="v1.5.0"))
    assert deploy.smoke == "failed"
    assert any(r["problem"] == "answered 500" for r in deploy.smoke_results)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "[Launch Ready] Smoke test failed after deploy v1.5.0"
    assert "app.login-500.test/login answered 500" in mail.outbox[0].body


def test_the_token_page_shows_a_new_token_once_and_revokes(tenant: Tenant) -> None:
    http = login(tenant.consultant)
    url = reverse("deploy_tokens", args=[tenant.client.code])
    page = http.post(url, {"name": "CI"}, follow=True).content.decode()
    token = ApiToken.objects.get()
    assert f"lr_{token.prefix}_" in page and "shown once" in page
    assert "shown once" not in http.get(url).content.decode()
    http.post(reverse("deploy_token_revoke", args=[token.code]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert login(tenant.founder).get(url).status_code == 403


def test_a_new_token_never_travels_in_a_cookie(tenant: Tenant) -> None:
    response = login(tenant.consultant).post(reverse("deploy_tokens", args=[tenant.client.code]), {"name": "CI"})
    assert all("lr_" not in morsel.value for morsel in response.cookies.values())
