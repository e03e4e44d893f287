"""`manage.py scan_repo`, run for real on folders, archives and git bundles made here: its exit status (0 passed,
1 blocked, 2 could not scan), its text and JSON reports, and that no key is ever printed whole."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from launchready.sandbox.scenarios import FAKE_STRIPE_SECRET
from tests.audits.repos import GITHUB_TOKEN, git

ROOT = Path(__file__).resolve().parents[2]
SECRETS = (FAKE_STRIPE_SECRET, GITHUB_TOKEN)
CLEAN = {
    "README.md": "# Shop\nSet STRIPE_SECRET_KEY in the host's environment settings.\n",
    ".env.example": "STRIPE_SECRET_KEY=\n",
    "app/pay.py": 'import os\nKEY = os.environ["STRIPE_SECRET_KEY"]\n',
}
LEAKY = CLEAN | {
    "app/pay.py": f'import os\nKEY = "{FAKE_STRIPE_SECRET}"\n',
    "deploy/ci.yml": f"steps:\n  - run: echo ok\n    env:\n      TOKEN: {GITHUB_TOKEN}\n",
}


def run(*args: str) -> tuple[int, str, str]:
    """The command as manage.py runs it: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as stop:
        call_command("scan_repo", *args, stdout=out, stderr=err)
    return int(stop.value.code or 0), out.getvalue(), err.getvalue()


def redacted(secret: str, prefix: str) -> str:
    return f"{prefix}•••• (sha256 {hashlib.sha256(secret.encode()).hexdigest()[:8]})"


def assert_no_secret(*outputs: str) -> None:
    for output in outputs:
        for secret in SECRETS:
            assert secret not in output
            assert secret[-16:] not in output  # not even its tail


def plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_clean_folder_passes(tmp_path: Path) -> None:
    status, out, err = run(str(plant(tmp_path / "shop", CLEAN)))
    assert status == 0, out + err
    assert "PASSED: no secret found" in out and err == ""
    status, out, _ = run(str(tmp_path / "shop"), "--json")
    report = json.loads(out)
    assert status == 0
    assert report["verdict"] == "passed" and report["findings"] == [] and report["kind"] == "directory"


def test_a_folder_with_a_live_key_is_blocked_with_the_key_redacted(tmp_path: Path) -> None:
    folder = plant(tmp_path / "shop", LEAKY)
    status, out, err = run(str(folder))
    assert status == 1
    assert "BLOCKED: 2 blockers" in out
    assert redacted(FAKE_STRIPE_SECRET, "sk_live_") in out and redacted(GITHUB_TOKEN, "ghp_") in out
    assert "at:       app/pay.py:2" in out and "at:       deploy/ci.yml:4" in out
    assert "provider: Stripe secret key" in out
    assert "Developers → API keys" in out  # Stripe's own rotation steps
    status_json, out_json, _ = run(str(folder), "--json")
    assert status_json == 1
    assert_no_secret(out, err, out_json)


def test_the_json_report_keeps_its_documented_shape(tmp_path: Path) -> None:
    status, out, _ = run(str(plant(tmp_path / "shop", LEAKY)), "--json")
    report = json.loads(out)
    assert status == 1
    assert set(report) == {
        "format", "target", "kind", "history", "history_unreadable", "verdict", "reason", "fail_on", "counts", "stats",
        "findings",
    }  # fmt: skip
    assert report["format"] == "launchready-scan/1" and report["verdict"] == "blocked"
    assert report["counts"] == {"blocker": 2, "high": 0, "medium": 0, "low": 0, "info": 0}
    assert report["stats"]["files"] == 4
    stripe = next(f for f in report["findings"] if f["provider"] == "Stripe secret key")
    assert set(stripe) == {
        "check_id", "severity", "title", "explanation", "fix", "provider", "key", "seen_in", "logged", "locations",
    }  # fmt: skip
    assert stripe["check_id"] == "secrets.repo.key" and stripe["severity"] == "blocker"
    assert stripe["key"] == redacted(FAKE_STRIPE_SECRET, "sk_live_")
    assert stripe["locations"] == [{"path": "app/pay.py", "line": 2, "commit": None}]
    assert stripe["fix"].startswith("Rotate the key now.")


def test_a_zip_is_read_member_by_member(tmp_path: Path) -> None:
    folder = plant(tmp_path / "shop", LEAKY)
    upload = tmp_path / "shop.zip"
    with zipfile.ZipFile(upload, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"shop-main/{path.relative_to(folder)}")
    status, out, err = run(str(upload), "--json")
    report = json.loads(out)
    assert status == 1 and report["kind"] == "zip"
    paths = {place["path"] for f in report["findings"] for place in f["locations"]}
    assert paths == {"app/pay.py", "deploy/ci.yml"}  # the archive's one top folder is not part of the path
    assert_no_secret(out, err)


def _history_repo(root: Path) -> Path:
    """A git repository (made with git) whose key was committed, then removed in the next commit."""
    plant(root, LEAKY | {".gitignore": ".env\n", ".env": f"STRIPE_SECRET_KEY={FAKE_STRIPE_SECRET}\n"})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Payments")
    plant(root, CLEAN)
    (root / "deploy/ci.yml").unlink()
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Read the key from the environment")
    return root


def test_a_git_bundle_made_by_git_is_scanned_with_its_history(tmp_path: Path) -> None:
    repo = _history_repo(tmp_path / "shop")
    bundle = tmp_path / "shop.bundle"
    git(repo, "bundle", "create", "-q", str(bundle), "--all")
    first = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()[:7]
    status, out, err = run(str(bundle), "--json")
    report = json.loads(out)
    assert status == 1 and report["kind"] == "bundle" and report["history"] is True
    keys = {f["provider"]: f for f in report["findings"] if f["check_id"] == "secrets.repo.key"}
    assert set(keys) == {"Stripe secret key", "GitHub token"}
    assert keys["GitHub token"]["seen_in"] == "git history only"
    assert keys["GitHub token"]["locations"] == [{"path": "deploy/ci.yml", "line": 4, "commit": first}]
    # The ignored .env was never committed: it is no finding.
    assert not [f for f in report["findings"] if f["check_id"] == "secrets.repo.env_file"]
    status, out_text, _ = run(str(bundle))
    assert status == 1 and f"deploy/ci.yml:4 in commit {first} (git history)" in out_text
    assert_no_secret(out, err, out_text)


def test_without_history_only_the_files_are_read(tmp_path: Path) -> None:
    repo = _history_repo(tmp_path / "shop")
    bundle = tmp_path / "shop.bundle"
    git(repo, "bundle", "create", "-q", str(bundle), "--all")
    for target in (repo, bundle):
        status, out, _ = run(str(target), "--no-history", "--json")
        report = json.loads(out)
        assert status == 0, (target, report["findings"])
        assert report["history"] is False and report["stats"]["blobs"] == 0
        assert "without git history" in run(str(target), "--no-history")[1]
        # With history the key removed in the last commit is still found.
        assert run(str(target))[0] == 1


def test_a_working_copy_leaves_out_what_git_ignores(tmp_path: Path) -> None:
    repo = _history_repo(tmp_path / "shop")
    assert (repo / ".env").exists()
    status, out, _ = run(str(repo), "--json")
    report = json.loads(out)
    assert status == 1
    assert not [f for f in report["findings"] if f["check_id"] == "secrets.repo.env_file"]
    stripe = next(f for f in report["findings"] if f["provider"] == "Stripe secret key")
    assert [place["path"] for place in stripe["locations"]] == ["app/pay.py"]
    assert stripe["seen_in"] == "git history only"  # the working copy now reads it from the environment
    assert_no_secret(out)


def test_a_malformed_archive_cannot_be_scanned(tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 40)
    status, out, err = run(str(broken))
    assert status == 2 and out == ""
    assert err.count("\n") <= 1 and err.startswith(f"scan_repo: {broken}: could not scan: ")
    assert "damaged" in err
    not_archive = tmp_path / "notes.txt"
    not_archive.write_text("hello")
    status, _, err = run(str(not_archive))
    assert status == 2 and "not a zip, tar.gz or git bundle" in err


def test_a_missing_path_cannot_be_scanned(tmp_path: Path) -> None:
    status, out, err = run(str(tmp_path / "nowhere"))
    assert status == 2 and out == ""
    assert err.strip() == f"scan_repo: {tmp_path / 'nowhere'}: could not scan: No such file or folder."
    status, _, err = run()
    assert status == 2 and "name one PATH" in err


def test_the_exit_status_is_the_process_own(tmp_path: Path) -> None:
    """As CI sees it: a separate process, its status and its streams."""
    folder = plant(tmp_path / "shop", LEAKY)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, str(ROOT / "manage.py"), "scan_repo"]
    blocked = subprocess.run([*command, str(folder)], capture_output=True, text=True, env=env, timeout=120)
    missing = subprocess.run([*command, str(tmp_path / "no")], capture_output=True, text=True, env=env, timeout=120)
    assert blocked.returncode == 1 and "BLOCKED" in blocked.stdout
    assert missing.returncode == 2 and missing.stdout == "" and len(missing.stderr.strip().splitlines()) == 1
    assert_no_secret(blocked.stdout, blocked.stderr)


# A logging call per language that writes what it should not, in a repository with no key: the names are reported,
# never the values (this password constant among them).
LOGGING = CLEAN | {
    "app/auth.py": 'import logging\nlog = logging.getLogger(__name__)\nSECRET = "hunter2-correct-horse"\n\n'
    'def login(user, password):\n    log.info("login %s %s", user.email, password)\n    log.info("ok %s", SECRET)\n',
    "web/server.ts": "app.use((req, res, next) => {\n  console.log(req.headers.authorization);\n  next();\n});\n",
    "lib/pay.rb": "def charge(card_number)\n  puts card_number\nend\n",
    "src/Mail.php": "<?php\nerror_log($_POST['password']);\n",
    "cmd/main.go": 'package main\n\nfunc f() {\n\tlog.Printf("token=%s", token)\n}\n',
}


def test_logging_calls_that_write_secrets_are_reported_with_file_line_name_and_fix(tmp_path: Path) -> None:
    folder = plant(tmp_path / "shop", LOGGING)
    status, out, err = run(str(folder))
    assert status == 0 and err == "" and "PASSED: no blocker" in out  # high, not blockers
    assert "HIGH     app/auth.py logs a password: password  [secrets.log.password]" in out
    assert "logs:     password (log.info)\n         at:       app/auth.py:6\n" in out
    assert "HIGH     app/auth.py logs an API key or secret: SECRET  [secrets.log.api_key]" in out
    assert "at:       web/server.ts:2" in out and "logs an Authorization header: req.headers.authorization" in out
    assert "HIGH     lib/pay.rb logs a card number: card_number" in out and "at:       lib/pay.rb:2" in out
    assert "src/Mail.php logs a password: $_POST['password']" in out and "at:       src/Mail.php:2" in out
    assert "cmd/main.go logs a token: token" in out and "at:       cmd/main.go:4" in out
    assert "MEDIUM   app/auth.py logs an email address: user.email" in out
    assert "fix:      Take password out of the log call and log who it concerns by id (user.id)" in out
    assert "and checked 6 logging calls." in out
    assert "hunter2" not in out

    status, out, _ = run(str(folder), "--json")
    report = json.loads(out)
    assert status == 0 and report["verdict"] == "passed" and report["fail_on"] == "blocker"
    assert report["counts"] == {"blocker": 0, "high": 6, "medium": 1, "low": 0, "info": 0}
    logged = {(f["check_id"], f["logged"], f["locations"][0]["path"], f["locations"][0]["line"]) for f in
              report["findings"] if f["check_id"].startswith("secrets.log.")}  # fmt: skip
    assert logged == {
        ("secrets.log.password", "password", "app/auth.py", 6),
        ("secrets.log.email", "user.email", "app/auth.py", 6),
        ("secrets.log.api_key", "SECRET", "app/auth.py", 7),
        ("secrets.log.authorization", "req.headers.authorization", "web/server.ts", 2),
        ("secrets.log.card", "card_number", "lib/pay.rb", 2),
        ("secrets.log.password", "$_POST['password']", "src/Mail.php", 2),
        ("secrets.log.token", "token", "cmd/main.go", 4),
    }
    assert report["stats"]["log_calls"] == 6 and report["stats"]["log_left_out"] == 0
    assert "hunter2" not in out


def test_fail_on_high_blocks_a_build_on_unsafe_logging(tmp_path: Path) -> None:
    folder = plant(tmp_path / "shop", LOGGING)
    status, out, _ = run(str(folder), "--fail-on", "high")
    assert status == 1 and "BLOCKED: 6 findings at high or above (--fail-on)" in out
    status, out, _ = run(str(folder), "--fail-on", "medium", "--json")
    assert status == 1 and json.loads(out)["verdict"] == "blocked" and json.loads(out)["fail_on"] == "medium"
    safe = plant(tmp_path / "safe", CLEAN | {"app/auth.py": 'log.info("user %s logged in", user.id)\n'})
    assert run(str(safe), "--fail-on", "medium")[0] == 0
    with pytest.raises(CommandError, match="invalid choice: 'low'"):  # from a shell: argparse's exit status 2
        run(str(safe), "--fail-on", "low")


def test_file_names_reach_the_terminal_and_ci_logs_escaped(tmp_path: Path) -> None:
    """A file named with escape codes or newlines cannot colour, erase or forge lines (a CI workflow command)."""
    folder = plant(
        tmp_path / "shop",
        {
            "app/\x1b[2K\x1b[1Apay\a.py": f'KEY = "{FAKE_STRIPE_SECRET}"\n',
            "app/b\n::warning title=Forged::all clear\n.py": 'import logging\nlogging.info("pw %s", password)\n',
        },
    )
    status, out, err = run(str(folder))
    assert status == 1, out + err
    assert not {"\x1b", "\a"} & set(out + err)
    assert not any(line.startswith("::") for line in out.splitlines())
    assert "app/\\x1b[2K\\x1b[1Apay\\x07.py:1" in out
    assert "b\\x0a::warning title=Forged::all clear\\x0a.py" in out
    _, as_json, _ = run(str(folder), "--json")
    assert "\\u001b" not in as_json and "\\n::warning" not in as_json


def test_a_tracked_file_that_gitignore_matches_is_scanned_with_its_history(tmp_path: Path) -> None:
    """.gitignore only applies to files git does not track: one added with `git add -f` is committed like any."""
    root = plant(tmp_path / "shop", CLEAN | {".gitignore": "config/\n", "config/keys.py": f'KEY = "{GITHUB_TOKEN}"\n'})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "add", "-f", "config/keys.py")
    git(root, "commit", "-q", "-m", "Keys")
    status, out, _ = run(str(root), "--json")
    report = json.loads(out)
    assert status == 1
    github = next(f for f in report["findings"] if f["provider"] and "GitHub" in f["provider"])
    assert github["seen_in"] == "the working tree"
    assert [place["path"] for place in github["locations"]] == ["config/keys.py"]
    text = run(str(root))[1]
    assert "since deleted" not in text and "config/keys.py:1" in text


def test_a_scan_that_reads_nothing_could_not_check(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    status, out, err = run(str(empty))
    assert status == 2
    assert "COULD NOT CHECK" in out and "PASSED" not in out
    assert "could not check: There was no file to read." in err
    status, out, _ = run(str(empty), "--json")
    report = json.loads(out)
    assert status == 2 and report["verdict"] == "unscanned" and report["reason"] == "There was no file to read."
    status, out, _ = run(str(empty), "--sarif")
    invocation = json.loads(out)["runs"][0]["invocations"][0]
    assert status == 2 and invocation["executionSuccessful"] is False
    assert "There was no file to read" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_a_scan_whose_every_file_is_skipped_could_not_check(tmp_path: Path) -> None:
    root = tmp_path / "links"
    root.mkdir()
    (root / "elsewhere.py").symlink_to("/etc/hostname")
    status, out, _ = run(str(root), "--json")
    report = json.loads(out)
    assert status == 2 and report["verdict"] == "unscanned"
    assert report["reason"] == "No file could be read: every file was skipped (1 link or special file)."


def test_json_and_sarif_say_why_when_the_path_cannot_be_scanned(tmp_path: Path) -> None:
    status, out, err = run(str(tmp_path / "nowhere"), "--json")
    report = json.loads(out)
    assert status == 2 and report["verdict"] == "unscanned" and report["reason"] == "No such file or folder."
    assert report["findings"] == [] and report["history"] is False
    assert "could not scan: No such file or folder." in err
    status, out, _ = run(str(tmp_path / "nowhere"), "--sarif")
    run_ = json.loads(out)["runs"][0]
    assert status == 2 and run_["results"] == [] and run_["invocations"][0]["executionSuccessful"] is False
    assert "No such file or folder." in run_["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]


def test_a_partial_copy_whose_objects_are_gone_says_history_could_not_be_read(tmp_path: Path) -> None:
    repo = _history_repo(tmp_path / "shop")
    for item in (repo / ".git/objects").iterdir():
        subprocess.run(["rm", "-rf", str(item)], check=True)
    status, out, _ = run(str(repo), "--json")
    report = json.loads(out)
    assert status == 0 and report["history"] is False and report["history_unreadable"] is True
    text = run(str(repo))[1]
    assert "git history could not be read" in text and "with git history" not in text
    assert "a key committed earlier and since removed from the files would not be found" in text


def test_a_plain_archive_is_not_said_to_be_scanned_with_git_history(tmp_path: Path) -> None:
    folder = plant(tmp_path / "shop", CLEAN)
    archive = tmp_path / "shop.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in CLEAN:
            z.write(folder / name, name)
    status, out, _ = run(str(archive))
    assert status == 0
    assert "with git history" not in out and "(zip, no git history in it)" in out
    assert "from git history" not in out
    assert json.loads(run(str(archive), "--json")[1])["history"] is False


def test_counts_have_thousands_separators() -> None:
    from launchready.formatting import plural

    assert (plural(1, "file"), plural(2, "file"), plural(12045, "file")) == ("1 file", "2 files", "12,045 files")


def test_a_damaged_archive_is_described_in_plain_words(tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 40)
    _, _, err = run(str(broken))
    assert "could not scan: The archive is damaged or incomplete; it could not be read." in err
    assert "Error" not in err and "BadZipFile" not in err


def test_an_aws_secret_access_key_and_a_pypi_token_are_named_as_their_providers_name_them(tmp_path: Path) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9mQ3kLpX"
    pypi = (
        "pypi-AgEIcHlwaS5vcmcCJGE0ZTY5ZDNiLWJhY2QtNGE3Yy05YmVhLTlmYmFhZDJmNmE4ZgACKlszLCJlNDc2Y2VkNi03YTRlLTQ2"
        "YTYtYjQ4Zi1mYzZjMWQ1M2I2YTciXQAABiD"
    )
    folder = plant(tmp_path / "shop", {"config.py": f'aws_secret_access_key = "{secret}"\nPYPI = "{pypi}"\n'})
    report = json.loads(run(str(folder), "--json")[1])
    titles = sorted(f["title"] for f in report["findings"] if f["check_id"] == "secrets.repo.key")
    assert titles == [
        "A PyPI credential is committed to the repository",
        "An AWS secret access key is committed to the repository",
    ]
