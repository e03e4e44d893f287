"""The deploys page's CI snippet, run for real: bash and curl report a deploy to the live server with the
client's token, a real worker runs the smoke test on the sandbox, and the script exits on the verdict it waits
for: 0 on a healthy app, 1 with the failing step printed on an app whose sign-in page fails."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest

from launchready.sandbox.runner import Sandbox
from monitoring.deploy_snippets import shell
from monitoring.deploys import token_create
from monitoring.models import Deploy
from tests.conftest import make_tenant
from tests.monitoring.test_deploys import _routes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def run_snippet(api_url: str, token: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LAUNCH_READY_TOKEN": token,
        "GIT_SHA": "abc1234",
        "VERSION": "v1.2.0",
    }
    return subprocess.run(["bash", "-c", shell(api_url)], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("apex", "code", "said"),
    [
        ("launch-ready.test", 0, "Launch Ready smoke test: passed"),
        ("login-500.test", 1, "- https://app.login-500.test/login: answered 500"),
    ],
)
def test_the_shell_snippet_passes_a_healthy_deploy_and_fails_a_broken_one(
    sandbox_env: Sandbox, worker: Any, live_server: Any, apex: str, code: int, said: str
) -> None:
    tenant = make_tenant()
    tenant.domain.delete()
    _routes(tenant, apex)
    _, token = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    ran = run_snippet(f"{live_server.url}/api/v1/deploys", token)
    assert ran.returncode == code, ran.stdout + ran.stderr
    assert said in ran.stdout and token not in ran.stdout + ran.stderr
    deploy = Deploy.objects.get(client=tenant.client)
    assert (deploy.version, deploy.commit, deploy.smoke) == ("v1.2.0", "abc1234", "passed" if code == 0 else "failed")


def test_the_snippet_fails_clearly_with_a_revoked_or_wrong_token(worker: Any, live_server: Any) -> None:
    ran = run_snippet(f"{live_server.url}/api/v1/deploys", "lr_nope_nope")
    assert ran.returncode != 0
    assert "Launch Ready: missing, unknown or revoked token" in ran.stderr
    assert not Deploy.objects.exists()
