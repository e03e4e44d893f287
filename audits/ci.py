"""The copy-paste CI snippets of the repository scan page: the client's CI sends its repository to
`POST /api/v1/scans` (web/api.py) with one of the client's deploy tokens, waits for the verdict and fails the job
unless it passed. Plain shell (git, curl, python3), and the same as a GitHub Actions workflow."""

from __future__ import annotations

from launchready.ci_snippets import FIELD_READER, as_actions_run

# Waits up to 10 minutes for a worker (the scan itself takes seconds).
POLLS, POLL_SECONDS = 120, 5

_SHELL = """\
# Launch Ready secret scan: sends the repository with its whole history, waits for the verdict and fails
# unless it passed. Needs LAUNCH_READY_TOKEN (one of this client's deploy tokens), git, curl and python3.
set -eu
{field_reader}
trap 'rm -f launch-ready.bundle' EXIT
git bundle create launch-ready.bundle --all
scan=$(curl -sS -X POST "{api_url}" \\
  -H "Authorization: Bearer $LAUNCH_READY_TOKEN" \\
  -H "Content-Type: application/octet-stream" \\
  --data-binary @launch-ready.bundle | field url)
state=pending
for _ in $(seq {polls}); do
  verdict=$(curl -sS "$scan" -H "Authorization: Bearer $LAUNCH_READY_TOKEN")
  state=$(printf '%s' "$verdict" | field state)
  [ "$state" = pending ] || break
  sleep {seconds}
done
printf '%s' "$verdict" | python3 -c '
import json, sys
scan = json.load(sys.stdin)
print("Launch Ready secret scan:", scan["state"], scan.get("reason", ""))
for finding in scan.get("findings", []):
    print("-", finding["severity"].upper(), finding["title"])
'
[ "$state" = passed ]
"""

_WORKFLOW = """\
# .github/workflows/launch-ready-scan.yml
name: Launch Ready secret scan
on: [push, pull_request]
jobs:
  scan:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # the whole history: a key deleted in a later commit is still found
      - name: Scan the repository
        env:
          LAUNCH_READY_TOKEN: ${{{{ secrets.LAUNCH_READY_TOKEN }}}}
        run: |
{script}"""


def shell(api_url: str) -> str:
    """The plain-shell snippet for this endpoint."""
    return _SHELL.format(field_reader=FIELD_READER, api_url=api_url, polls=POLLS, seconds=POLL_SECONDS)


def github_actions(api_url: str) -> str:
    """The GitHub Actions workflow: the same script as a step, the token from the repository's secrets."""
    return as_actions_run(shell(api_url), _WORKFLOW)


# The hook's id in .pre-commit-hooks.yaml at the root of this product's repository.
HOOK_ID = "launchready-secrets"

_PRE_COMMIT = """\
# .pre-commit-config.yaml
repos:
  - repo: {repo}
    rev: {rev}
    hooks:
      - id: {hook_id}
"""


def pre_commit_config(repo: str, rev: str) -> str:
    """The lines of a project's .pre-commit-config.yaml that install the hook from this product's repository, or
    empty when the installation does not say where that repository is published and at which revision."""
    if not repo or not rev:
        return ""
    return _PRE_COMMIT.format(repo=repo, rev=rev, hook_id=HOOK_ID)
