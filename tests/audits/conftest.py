"""Helpers for the audit tests (the sandbox fixtures live in tests/conftest.py)."""

from __future__ import annotations

from audits.sandbox_targets import sandbox_target
from audits.target import AuditTarget


def target_for(apex: str, *, labels: list[str] | None = None) -> AuditTarget:
    return sandbox_target(apex, labels=labels)
