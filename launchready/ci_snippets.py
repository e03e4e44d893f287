"""What the copy-paste CI snippets share (the repository scan's in audits/ci.py, the deploy smoke test's in
monitoring/deploy_snippets.py): the shell function that reads one field of the API's JSON answer, or stops the
job with the API's error, and the plain script turned into a GitHub Actions step."""

from __future__ import annotations

import textwrap

# `field NAME` prints NAME of the JSON on stdin; an answer with "error" ends the job with it.
FIELD_READER = """\
field() {
  python3 -c '
import json, sys
answer = json.load(sys.stdin)
sys.exit("Launch Ready: " + answer["error"]) if "error" in answer else print(answer[sys.argv[1]])
' "$1"
}"""


def as_actions_run(script: str, workflow: str) -> str:
    """`workflow` with the shell `script` as its `run: |` block (GitHub Actions stops on errors itself)."""
    lines = "\n".join(line for line in script.splitlines() if not line.startswith("set -eu"))
    return workflow.format(script=textwrap.indent(lines, " " * 10))
