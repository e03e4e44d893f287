"""The pre-commit hook (.pre-commit-hooks.yaml), in real git repositories made here: its entry run on the staged
files as pre-commit runs it, and pre-commit itself installing the hook from this repository (`try-repo`)."""

from __future__ import annotations

import html
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from launchready.sandbox.scenarios import FAKE_STRIPE_SECRET
from tests.audits.repos import git
from tests.audits.test_scan_repo_command import assert_no_secret, redacted

ROOT = Path(__file__).resolve().parents[2]
HOOK_ID = "launchready-secrets"
# The calling project's own settings, which must not become the scanner's.
THEIR_ENV = {"DJANGO_SETTINGS_MODULE": "theirapp.settings", "DATABASE_URL": "mysql://x", "DJANGO_ENV": "staging"}


def hook() -> dict:  # type: ignore[type-arg]
    (found,) = [h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()) if h["id"] == HOOK_ID]
    return found


def staged_repo(root: Path, files: dict[str, str]) -> list[str]:
    """A git repository with these files staged; the names git would pass to pre-commit."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "Start")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "add", "-A")
    return git(root, "diff", "--cached", "--name-only", "--diff-filter=ACMR").split()


def run_entry(repo: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    """The hook's entry with the file names appended, from the repository's root, as pre-commit runs it. The
    entry's console script is resolved through pyproject.toml's [project.scripts], as installing it would."""
    script, *args = hook()["entry"].split()
    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"][script]
    module, function = target.split(":")
    code = f"import {module} as m; m.{function}()"
    env = os.environ | THEIR_ENV | {"PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code, *args, *names], cwd=repo, env=env, capture_output=True, text=True, timeout=180
    )


def test_the_hook_is_declared_for_pre_commit_python() -> None:
    declared = hook()
    assert declared["language"] == "python" and declared["language_version"] == "python3.11"
    assert declared["entry"] == "launchready-scan-repo --files"
    assert declared["require_serial"] is True and declared["types"] == ["file"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["launchready-scan-repo"] == "audits.cli:main"
    assert project["build-system"]["build-backend"] == "setuptools.build_meta"


def test_the_hook_blocks_a_commit_that_adds_a_key_and_passes_a_clean_one(tmp_path: Path) -> None:
    names = staged_repo(
        tmp_path / "app",
        {"src/pay.py": f'STRIPE = "{FAKE_STRIPE_SECRET}"\n', "src/ok.py": "import os\nKEY = os.environ['K']\n"},
    )
    assert names == ["src/ok.py", "src/pay.py"]
    blocked = run_entry(tmp_path / "app", names)
    assert blocked.returncode == 1, blocked.stderr
    assert "2 files named: BLOCKED: 1 blocker" in blocked.stdout
    assert f"key:      {redacted(FAKE_STRIPE_SECRET, 'sk_live_')}" in blocked.stdout
    assert "at:       src/pay.py:1" in blocked.stdout and "Developers → API keys" in blocked.stdout
    assert "environment variable" not in blocked.stdout  # the whole-repository checks are not run on a commit
    assert_no_secret(blocked.stdout, blocked.stderr)
    clean = run_entry(tmp_path / "app", ["src/ok.py"])
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "1 file named: PASSED: no secret found" in clean.stdout and clean.stderr == ""


def test_the_hook_blocks_a_staged_env_file_and_skips_a_deleted_file(tmp_path: Path) -> None:
    names = staged_repo(tmp_path / "app", {".env": "DEBUG=1\n"})
    blocked = run_entry(tmp_path / "app", names)
    assert blocked.returncode == 1 and "A .env file is committed: .env" in blocked.stdout
    gone = run_entry(tmp_path / "app", ["removed.py"])
    assert gone.returncode == 0 and "Read 0 files." in gone.stdout


def test_the_hook_reports_unsafe_logging_and_blocks_on_it_with_fail_on_high(tmp_path: Path) -> None:
    names = staged_repo(tmp_path / "app", {"src/auth.py": "def login(user):\n    print(user.password)\n"})
    reported = run_entry(tmp_path / "app", names)
    assert reported.returncode == 0, reported.stdout + reported.stderr  # high: reported, not a blocker by default
    assert "1 file named: PASSED: no blocker" in reported.stdout
    assert "HIGH     src/auth.py logs a password: user.password  [secrets.log.password]" in reported.stdout
    assert "at:       src/auth.py:2" in reported.stdout
    # In .pre-commit-config.yaml: `args: [--fail-on, high]`, which pre-commit puts before the file names.
    blocked = run_entry(tmp_path / "app", ["--fail-on", "high", *names])
    assert blocked.returncode == 1 and "BLOCKED: 1 finding at high or above (--fail-on)" in blocked.stdout
    safe = staged_repo(tmp_path / "safe", {"src/auth.py": "def login(user):\n    print(user.id)\n"})
    assert run_entry(tmp_path / "safe", ["--fail-on", "high", *safe]).returncode == 0


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="pre-commit installs the hook from a git repository")
def test_pre_commit_installs_the_hook_from_this_repository_and_blocks(tmp_path: Path) -> None:
    """pre-commit itself: it clones this repository, installs it with pip into an environment of its own and
    runs the hook on the files (downloads the pinned requirements from PyPI, or takes them from pip's cache)."""
    names = staged_repo(tmp_path / "app", {"pay.py": f'KEY = "{FAKE_STRIPE_SECRET}"\n', "ok.py": "print(1)\n"})
    env = os.environ | THEIR_ENV | {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PRE_COMMIT_COLOR": "never"}
    env |= {"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com"}
    env |= {"GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), HOOK_ID, "--files", *names],
        cwd=tmp_path / "app",
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Launch Ready secret scan" in done.stdout and "Failed" in done.stdout
    assert "- exit code: 1" in done.stdout
    assert redacted(FAKE_STRIPE_SECRET, "sk_live_") in done.stdout and "at:       pay.py:1" in done.stdout
    assert_no_secret(done.stdout, done.stderr)


@pytest.mark.django_db
def test_the_advice_on_the_repository_scans_page_installs_the_declared_hook(tenant, settings) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    from audits.ci import HOOK_ID as ADVISED
    from tests.conftest import login

    assert ADVISED == HOOK_ID == hook()["id"]
    url = reverse("repo_scans", args=[tenant.client.code])
    settings.PRE_COMMIT_REPO, settings.PRE_COMMIT_REV = "", ""
    page = login(tenant.consultant).get(url).content.decode()
    assert "repos:" not in page and "LAUNCHREADY_HOOK_REPO" in page  # no address is made up
    settings.PRE_COMMIT_REPO, settings.PRE_COMMIT_REV = "https://git.example.com/launch-ready.git", "v0.1.0"
    page = login(tenant.consultant).get(url).content.decode()
    start = page.index("# .pre-commit-config.yaml")
    advice = html.unescape(page[start : page.index("</pre>", start)])
    assert yaml.safe_load(advice) == {
        "repos": [
            {"repo": "https://git.example.com/launch-ready.git", "rev": "v0.1.0", "hooks": [{"id": hook()["id"]}]}
        ]
    }
