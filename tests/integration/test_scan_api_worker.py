"""The CI snippet of the repository page, run for real: bash, git and curl send a git repository made here to the
live server's `POST /api/v1/scans` with the client's token, a real worker scans it, and the script exits on the
verdict it polls for (failing on a committed key, passing once the repository is clean)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from audits.ci import shell
from audits.models import RepoScan, RepoUpload
from audits.secrets.rotation import key_finding, key_rotated_mark, leaked_keys
from audits.selectors import risk_list
from launchready.sandbox.scenarios import FAKE_STRIPE_SECRET
from monitoring.deploys import token_create
from tests.audits.repos import git
from tests.conftest import make_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def run_snippet(repo: Path, api_url: str, token: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(repo),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "LAUNCH_READY_TOKEN": token,
    }
    return subprocess.run(
        ["bash", "-c", shell(api_url)], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_shell_snippet_fails_on_a_committed_key_and_passes_a_clean_repository(
    worker: Any, live_server: Any, tmp_path: Path
) -> None:
    tenant = make_tenant()
    _, token = token_create(client=tenant.client, name="CI", user=tenant.consultant)
    api_url = f"{live_server.url}/api/v1/scans"
    repo = tmp_path / "shop"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "pay.py").write_text(f'STRIPE = "{FAKE_STRIPE_SECRET}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Payments")

    blocked = run_snippet(repo, api_url, token)
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "Launch Ready secret scan: failed" in blocked.stdout
    assert "- BLOCKER A Stripe secret key is committed to the repository" in blocked.stdout
    assert FAKE_STRIPE_SECRET not in blocked.stdout + blocked.stderr
    assert not (repo / "launch-ready.bundle").exists()
    scan = RepoScan.objects.get()
    assert scan.state == RepoScan.State.DONE and scan.kind == "bundle" and not RepoUpload.objects.exists()
    assert risk_list(tenant.client).go is False

    # A new repository without the key (its history holds none either): the key is still leaked to anyone
    # with a copy of the old one, so the job fails until the consultant marks it rotated; then it passes.
    clean = tmp_path / "clean"
    clean.mkdir()
    git(clean, "init", "-q", "-b", "main")
    (clean / "pay.py").write_text('import os\nSTRIPE = os.environ["STRIPE_SECRET_KEY"]\n')
    (clean / ".env.example").write_text("STRIPE_SECRET_KEY=\n")
    git(clean, "add", "-A")
    git(clean, "commit", "-q", "-m", "Payments")
    unrotated = run_snippet(clean, api_url, token)
    assert unrotated.returncode == 1, unrotated.stdout + unrotated.stderr
    assert "- BLOCKER A Stripe secret key is committed to the repository" in unrotated.stdout
    assert risk_list(tenant.client).go is False
    (leaked,) = leaked_keys(tenant.client)
    finding = key_finding(tenant.client, str(leaked.finding.id))
    assert finding is not None and "no longer in the code" in str(finding.evidence)
    key_rotated_mark(client=tenant.client, finding=finding, user=tenant.consultant, note="rolled in Stripe")
    passed = run_snippet(clean, api_url, token)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Launch Ready secret scan: passed" in passed.stdout
    assert risk_list(tenant.client).go is True


def test_the_snippet_fails_clearly_without_a_valid_token(worker: Any, live_server: Any, tmp_path: Path) -> None:
    repo = tmp_path / "shop"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "a.py").write_text("print(1)\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Start")
    refused = run_snippet(repo, f"{live_server.url}/api/v1/scans", "lr_nope_nope")
    assert refused.returncode != 0
    assert "missing, unknown or revoked token" in refused.stdout + refused.stderr
    assert not RepoScan.objects.exists()
