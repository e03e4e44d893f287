"""How a finding becomes a stored row, for an audit run or a repository scan: its verdict text rendered from
the catalog, its rank, and its change since the previous run or scan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from audits.catalog import CATALOG, render, severity_of
from audits.findings import Finding
from audits.models import AuditFinding, RecordedFinding
from audits.risk import impact_rank

R = TypeVar("R", bound=RecordedFinding)


@dataclass
class History:
    """The (check id, subject) of the open findings of the previous run, and of every earlier one."""

    previous: set[tuple[str, str]]
    ever: set[tuple[str, str]]


def change_of(fingerprint: tuple[str, str], history: History) -> str:
    if fingerprint in history.previous:
        return AuditFinding.Change.STILL_OPEN
    if fingerprint in history.ever:
        return AuditFinding.Change.REGRESSED
    return AuditFinding.Change.NEW


def recorded(model: type[R], finding: Finding, history: History, apex: str = "", **owner: Any) -> R:
    """The row of one finding, its text rendered as the catalog says it today; `apex` is the audited domain
    (none for a repository scan), under which the finding's host is ranked."""
    verdict = CATALOG[finding.check_id]
    text = render(finding)
    return model(
        **owner,
        check_id=finding.check_id,
        subject=finding.subject[:500],
        area=verdict.area.value,
        severity=severity_of(finding).value,
        item=verdict.item.value,
        title=text["title"][:300],
        explanation=text["explanation"],
        fix=text["fix"],
        evidence=_jsonable(finding.evidence),
        change=change_of((finding.check_id, finding.subject[:500]), history),
        rank=impact_rank(finding, apex),
    )


def fixed_copy(model: type[R], f: RecordedFinding, change: str, **owner: Any) -> R:
    """An earlier finding carried into a new run or scan: fixed, or still open where nothing proved it fixed."""
    fields = ("check_id", "subject", "area", "severity", "item", "title", "explanation", "fix", "evidence", "rank")
    return model(**owner, change=change, **{name: getattr(f, name) for name in fields})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
