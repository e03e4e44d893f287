"""The dependency audit's verdict: a known vulnerability fails, an unreachable advisory service is one line."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_dependencies", ROOT / "scripts" / "audit_dependencies.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_dependencies"] = module
    spec.loader.exec_module(module)
    return module


def test_a_known_vulnerability_fails_with_its_advisory_and_fix() -> None:
    report = {
        "dependencies": [
            {"name": "django", "version": "5.2.0", "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["5.2.1"]}]},
            {"name": "httpx", "version": "0.28.1", "vulns": []},
        ]
    }
    status, lines = _script().verdict(report)
    assert status == 1 and lines == ["pip-audit: django 5.2.0: GHSA-xxxx (fixed in 5.2.1)"]


def test_a_clean_report_passes_and_says_how_many_were_audited() -> None:
    report = {"dependencies": [{"name": "httpx", "version": "0.28.1", "vulns": []}, {"name": "x", "skip_reason": "?"}]}
    status, lines = _script().verdict(report)
    assert status == 0 and lines == [
        "pip-audit: no known vulnerabilities in 1 pinned dependencies; 1 not found by the advisory service"
    ]


def test_an_unreachable_service_is_one_clear_line_and_passes_unless_strict(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script()
    status, lines = script.verdict({"dependencies": [{"name": "a", "skip_reason": "not found"}]})
    assert status == -1
    assert script._unreachable(lines[0]) == 0
    assert capsys.readouterr().out.count("\n") == 1
    monkeypatch.setenv("LAUNCHREADY_AUDIT_STRICT", "1")
    assert script._unreachable(lines[0]) == 1
