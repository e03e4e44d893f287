"""CI reads the smoke test's verdict: `GET /api/v1/deploys/<id>` with the client's token answers pending,
passed or failed with the failing steps, in JSON; another client's deploy and a malformed id are a JSON 404."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from launchready.sandbox.runner import Sandbox
from monitoring.deploy_snippets import github_actions, shell
from monitoring.deploy_verdict import MAX_WAIT, settled, wait_seconds
from monitoring.deploys import token_create
from monitoring.models import Deploy
from monitoring.smoke import smoke_test
from tests.conftest import Tenant, login, make_tenant
from tests.monitoring.test_deploys import _routes

pytestmark = pytest.mark.django_db


def _get(token: str, code: object, query: str = "") -> Any:
    url = reverse("api_deploy_detail", args=[str(code)]) + query
    return HttpClient().get(url, headers={"Authorization": f"Bearer {token}"})


def test_a_pending_deploy_reads_pending(tenant: Tenant) -> None:
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    deploy = Deploy.objects.create(client=tenant.client, version="v1")
    response = _get(value, deploy.code)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert (body["deploy"], body["state"], body["failing"], body["version"]) == (str(deploy.code), "pending", [], "v1")


def test_a_failed_smoke_test_reads_failed_with_its_failing_steps(sandbox_env: Sandbox, tenant: Tenant) -> None:
    tenant.domain.delete()
    _routes(tenant, "login-500.test")
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    deploy = smoke_test(Deploy.objects.create(client=tenant.client, version="v2"))
    body = _get(value, deploy.code, "?wait=5").json()
    assert body["state"] == "failed" and body["finished_at"]
    (failing,) = body["failing"]
    assert failing == {"step": "https://app.login-500.test/login", "kind": "login", "problem": "answered 500"}
    assert [s["ok"] for s in body["steps"]] == [True, False, True]


def test_a_passed_smoke_test_reads_passed(sandbox_env: Sandbox, tenant: Tenant) -> None:
    tenant.domain.delete()
    _routes(tenant, "launch-ready.test")
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    deploy = smoke_test(Deploy.objects.create(client=tenant.client, version="v3"))
    body = _get(value, deploy.code).json()
    assert (body["state"], body["failing"], len(body["steps"])) == ("passed", [], 3)


def test_another_clients_deploy_and_bad_ids_are_a_json_404(tenant: Tenant) -> None:
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    other = make_tenant()
    theirs = Deploy.objects.create(client=other.client, version="v9")
    for code in (theirs.code, uuid.uuid4(), "not-a-uuid", "1"):
        response = _get(value, code)
        assert response.status_code == 404, code
        assert response.json() == {"error": "no such deploy for this token's client"}
    assert _get("lr_nope_nope", theirs.code).status_code == 401


@pytest.mark.parametrize("query", ["?wait=abc", "?wait=-1", "?wait=1.5"])
def test_a_wait_that_is_not_whole_seconds_is_a_json_400(tenant: Tenant, query: str) -> None:
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    deploy = Deploy.objects.create(client=tenant.client, version="v1")
    response = _get(value, deploy.code, query)
    assert response.status_code == 400 and "wait must be a whole number" in response.json()["error"]


def test_only_get_is_answered(tenant: Tenant) -> None:
    _, value = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    deploy = Deploy.objects.create(client=tenant.client, version="v1")
    url = reverse("api_deploy_detail", args=[str(deploy.code)])
    headers = {"Authorization": f"Bearer {value}"}
    response = HttpClient().post(url, "{}", content_type="application/json", headers=headers)
    assert response.status_code == 405 and response["Allow"] == "GET" and "error" in response.json()


def test_the_wait_is_capped_and_reads_the_row_at_an_interval(tenant: Tenant) -> None:
    assert wait_seconds("600") == MAX_WAIT and wait_seconds("") == 0 and wait_seconds("x") is None
    deploy = Deploy.objects.create(client=tenant.client, version="v1")
    now = [0.0]
    reads: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds
        reads.append(now[0])
        if len(reads) == 3:  # the smoke test finishes while the CI waits
            Deploy.objects.filter(pk=deploy.pk).update(smoke=Deploy.Smoke.FAILED, smoke_results=[])

    result = settled(deploy, 60, clock=lambda: now[0], sleep=sleep)
    assert result.smoke == "failed" and reads == [1.0, 2.0, 3.0]
    # Still running when the wait is over: the answer says pending after two reads.
    still = Deploy.objects.create(client=tenant.client, version="v2")
    reads.clear()
    now[0] = 100.0
    assert settled(still, 2, clock=lambda: now[0], sleep=sleep).smoke == "pending"
    assert reads == [101.0, 102.0]


def test_the_deploys_page_shows_the_ci_snippets(tenant: Tenant) -> None:
    page = login(tenant.consultant).get(reverse("deploy_tokens", args=[tenant.client.code])).content.decode()
    assert "Launch Ready smoke test" in page and "secrets.LAUNCH_READY_TOKEN" in page
    assert "?wait=60" in page and "http://testserver/api/v1/deploys" in page
    assert "wait=60" in shell("https://x.test/api/v1/deploys") and "set -eu" not in github_actions("https://x")
