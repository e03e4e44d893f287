#!/usr/bin/env python3
"""Known vulnerabilities in the pinned requirements, with pip-audit (make check runs it).

A known vulnerability fails the check and is listed with its advisory id and the fixed versions. When
the advisory service cannot be reached (no network, or a package index that is a mirror without
PyPI's JSON API), one line says so and the check passes: an outside outage must not block every
change. LAUNCHREADY_AUDIT_STRICT=1 makes that a failure too, for a machine that must audit.

Exceptions, when one is ever needed, go in IGNORED with the reason and the date to look again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ["requirements.txt", "requirements-dev.txt"]
# advisory id -> why it does not apply to Launch Ready (and when to look again). Empty: nothing accepted.
IGNORED: dict[str, str] = {}
TIMEOUT = 180


def _run() -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip_audit", "--disable-pip", "--no-deps", "--format", "json"]
    command += ["--progress-spinner", "off"]
    for name in REQUIREMENTS:
        command += ["-r", str(ROOT / name)]
    for advisory in IGNORED:
        command += ["--ignore-vuln", advisory]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)  # noqa: S603


def _unreachable(reason: str) -> int:
    strict = os.environ.get("LAUNCHREADY_AUDIT_STRICT", "") == "1"
    print(f"pip-audit: dependencies not audited: {reason}" + (" (strict: failing)" if strict else ""))
    return 1 if strict else 0


def verdict(report: dict[str, Any]) -> tuple[int, list[str]]:
    """The exit status and the lines to print for one pip-audit JSON report."""
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    lines = []
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            lines.append(f"pip-audit: {dep['name']} {dep.get('version', '')}: {vuln['id']} (fixed in {fixes})")
    if vulnerable:
        return 1, lines
    audited = len(dependencies) - len(skipped)
    if dependencies and not audited:
        return -1, ["the advisory service did not know any of them (offline, or an index without PyPI's API)"]
    note = f"; {len(skipped)} not found by the advisory service" if skipped else ""
    return 0, [f"pip-audit: no known vulnerabilities in {audited} pinned dependencies{note}"]


def main() -> int:
    try:
        result = _run()
    except subprocess.TimeoutExpired:
        return _unreachable(f"no answer from the advisory service within {TIMEOUT} s")
    try:
        report = json.loads(result.stdout)
    except ValueError:
        last = (result.stderr.strip().splitlines() or ["pip-audit gave no report"])[-1]
        return _unreachable(last[:200])
    status, lines = verdict(report)
    if status < 0:
        return _unreachable(lines[0])
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
