"""The copy-paste CI snippets of the deploys page: after deploying, the client's CI reports the deploy to
`POST /api/v1/deploys`, waits for the smoke test's verdict on `GET /api/v1/deploys/<id>?wait=60` and fails the
pipeline when the smoke test failed, printing the failing steps. Plain shell (curl, python3), and the same as a
GitHub Actions job."""

from __future__ import annotations

from launchready.ci_snippets import FIELD_READER, as_actions_run

# Each read waits up to 60 s on the server: ten reads give the smoke test ten minutes to finish.
READS, WAIT_SECONDS = 10, 60

_SHELL = """\
# Launch Ready smoke test: reports the deploy, waits for the verdict and fails unless it passed.
# Needs LAUNCH_READY_TOKEN (one of this client's deploy tokens), curl and python3; GIT_SHA and VERSION if set.
set -eu
{field_reader}
body=$(python3 -c 'import json, os, sys; print(json.dumps({{"version": os.environ.get("VERSION", ""),
  "commit": os.environ.get("GIT_SHA", ""), "environment": sys.argv[1]}}))' "${{DEPLOY_ENV:-production}}")
deploy=$(curl -sS -X POST "{api_url}" \\
  -H "Authorization: Bearer $LAUNCH_READY_TOKEN" \\
  -H "Content-Type: application/json" \\
  -d "$body" | field url)
state=pending
for _ in $(seq {reads}); do
  verdict=$(curl -sS -m {timeout} "$deploy?wait={wait}" -H "Authorization: Bearer $LAUNCH_READY_TOKEN")
  state=$(printf '%s' "$verdict" | field state)
  [ "$state" = pending ] || break
done
printf '%s' "$verdict" | python3 -c '
import json, sys
deploy = json.load(sys.stdin)
print("Launch Ready smoke test:", deploy["state"])
for step in deploy.get("failing", []):
    print("-", step["step"] + ":", step["problem"])
'
[ "$state" = passed ]
"""

_WORKFLOW = """\
# In .github/workflows/deploy.yml, as the job's last step, after the deploy step:
      - name: Launch Ready smoke test
        env:
          LAUNCH_READY_TOKEN: ${{{{ secrets.LAUNCH_READY_TOKEN }}}}
          GIT_SHA: ${{{{ github.sha }}}}
          VERSION: ${{{{ github.ref_name }}}}
        run: |
{script}"""


def shell(api_url: str) -> str:
    """The plain-shell snippet for this endpoint."""
    return _SHELL.format(
        field_reader=FIELD_READER, api_url=api_url, reads=READS, wait=WAIT_SECONDS, timeout=WAIT_SECONDS + 15
    )


def github_actions(api_url: str) -> str:
    """The GitHub Actions step: the same script, the token from the repository's secrets."""
    return as_actions_run(shell(api_url), _WORKFLOW)
