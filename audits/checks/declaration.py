"""How a checks module declares a check: the name a run shows, the function the engine runs, and every finding
id it may produce, so that the engine, a run's history and the catalog read one list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from audits.findings import Finding
from audits.target import AuditTarget
from launchready.net import Net

CheckFn = Callable[[AuditTarget, Net], Awaitable[list[Finding]]]


def _always(target: AuditTarget) -> bool:
    return True


@dataclass(frozen=True)
class Check:
    """One check the engine runs beside the others.

    `name` is what progress, failed and cut-off checks show; `ids` are every finding id the check may produce:
    when it fails or runs out of time, the previous run's findings with those ids are carried forward rather
    than counted as fixed. `applies` says whether the check runs for a target at all.
    """

    name: str
    run: CheckFn
    ids: frozenset[str]
    applies: Callable[[AuditTarget], bool] = _always
