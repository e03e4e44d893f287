"""Helpers for the audit tests (the sandbox fixtures live in tests/conftest.py)."""

from __future__ import annotations

from audits.target import AuditTarget
from launchready.sandbox.scenarios import sandbox_target


def target_for(apex: str, *, labels: list[str] | None = None) -> AuditTarget:
    return sandbox_target(apex, labels=labels)
