"""Helpers for the audit tests (the sandbox fixtures live in tests/conftest.py)."""

from __future__ import annotations

from audits.engine import BY_NAME, OWN_IDS
from audits.findings import Finding
from audits.sandbox_targets import sandbox_target
from audits.target import AuditTarget


def target_for(apex: str, *, labels: list[str] | None = None) -> AuditTarget:
    return sandbox_target(apex, labels=labels)


async def only_declared_ids(done: int, total: int, name: str, findings: list[Finding]) -> None:
    """An audit's progress callback that stops the audit on a finding its check does not declare (a check that
    failed is reported by the engine, in its own words)."""
    stray = {f.check_id for f in findings} - BY_NAME[name].ids - OWN_IDS
    assert not stray, f"{name} produced {sorted(stray)}, which it does not declare"
