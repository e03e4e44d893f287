"""A check's identity lives in one place: each checks module declares the ids its checks may produce; every id
is in the catalog and belongs to exactly one check (or to the diagnosis, the TTL advice, the engine itself or
the repository scan); and no module produces an id that nobody declares."""

from __future__ import annotations

import ast
import asyncio
import re
from collections import defaultdict
from collections.abc import Collection, Mapping
from pathlib import Path

import pytest

from audits.catalog import CATALOG
from audits.checks import dns
from audits.engine import CHECKS, OWN_IDS
from audits.findings import Finding
from audits.inbound.verdict import SEND_IDS
from audits.journey_findings import JOURNEY_IDS
from audits.secrets.repo import REPO_SCAN_IDS
from tests.audits.conftest import only_declared_ids

AUDITS = Path(__file__).resolve().parents[2] / "audits"
# The modules that produce findings: the checks, the engine, the repository scan (with its log-hygiene rules),
# a real send's verdict and a journey's latest run.
SOURCES = sorted(
    [
        *(AUDITS / "checks").glob("*.py"),
        AUDITS / "engine.py",
        AUDITS / "secrets" / "repo.py",
        AUDITS / "inbound" / "verdict.py",
        AUDITS / "secrets" / "lognames.py",
        AUDITS / "journey_findings.py",
    ]
)
PRODUCERS: dict[str, frozenset[str]] = {check.name: check.ids for check in CHECKS} | {
    "the domain's diagnosis": dns.DIAGNOSIS_IDS,
    "the TTL advice": dns.TTL_IDS,
    "the engine": OWN_IDS,
    "the repository scan": REPO_SCAN_IDS,
    "a real send's verdict": SEND_IDS,
    "a journey's latest run": JOURNEY_IDS,
}
ID_SHAPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
NOT_IDS = {"env.example"}  # shaped like an id: a file name the repository scan looks for


def _is_declaration(node: ast.stmt) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return any(isinstance(t, ast.Name) and (t.id == "CHECKS" or t.id.endswith("_IDS")) for t in targets)


def id_literals(source: str, namespaces: Collection[str]) -> set[str]:
    """The strings shaped like a finding id ("dns.host.missing") in a module, outside its declarations."""
    found: set[str] = set()
    for statement in ast.parse(source).body:
        if _is_declaration(statement):
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ID_SHAPE.match(node.value):
                found.add(node.value)
    return {value for value in found if value.split(".")[0] in namespaces and value not in NOT_IDS}


def problems(
    sources: Mapping[str, str], producers: Mapping[str, frozenset[str]], catalog: Collection[str]
) -> list[str]:
    """What is wrong with the ids: declared twice or not in the catalog, in the catalog but declared nowhere,
    produced by a module but declared nowhere, declared but produced nowhere."""
    owners: dict[str, list[str]] = defaultdict(list)
    for name, ids in producers.items():
        for check_id in ids:
            owners[check_id].append(name)
    found = []
    for check_id, names in owners.items():
        if len(names) > 1:
            found.append(f"{check_id} is declared by {' and '.join(sorted(names))}")
        if check_id not in catalog:
            found.append(f"{check_id} is declared by {names[0]} but is not in the catalog")
    found += [f"{check_id} is in the catalog but nothing declares it" for check_id in catalog if check_id not in owners]
    namespaces = {check_id.split(".")[0] for check_id in catalog}
    used: set[str] = set()
    for path, source in sources.items():
        literals = id_literals(source, namespaces) - set(producers)  # a check's name is not an id
        used |= literals
        for check_id in sorted(literals - set(owners)):
            known = "" if check_id in catalog else ", nor does the catalog"
            found.append(f"{path} produces {check_id}, which no check declares{known}")
    found += [f"{check_id} is declared but never produced" for check_id in owners if check_id not in used]
    return sorted(found)


def test_every_id_is_in_the_catalog_and_declared_by_exactly_one_check() -> None:
    sources = {str(path.relative_to(AUDITS.parent)): path.read_text() for path in SOURCES}
    assert problems(sources, PRODUCERS, CATALOG) == []


def test_check_names_are_unique() -> None:
    names = [check.name for check in CHECKS]
    assert len(names) == len(set(names))


GUARD_SOURCE = """
CHECKS = (Check("dns.hosts", check_hosts, frozenset({"dns.host.missing"})),)


async def check_hosts(target, net):
    return [Finding("dns.host.missing", target.apex), Finding("dns.host.gone", target.apex)]


def check_other(target):
    return [Finding("dns.ipv6.missing", target.apex)]
"""


def test_the_identity_test_fails_for_an_id_nobody_declares_or_the_catalog_lacks() -> None:
    producers = {"dns.hosts": frozenset({"dns.host.missing"}), "dns.other": frozenset({"dns.host.missing"})}
    catalog = {"dns.host.missing", "dns.ipv6.missing", "dns.ttl.long"}
    assert problems({"guard.py": GUARD_SOURCE}, producers, catalog) == [
        "dns.host.missing is declared by dns.hosts and dns.other",
        "dns.ipv6.missing is in the catalog but nothing declares it",
        "dns.ttl.long is in the catalog but nothing declares it",
        "guard.py produces dns.host.gone, which no check declares, nor does the catalog",
        "guard.py produces dns.ipv6.missing, which no check declares",
    ]
    stale = {"dns.hosts": frozenset({"dns.host.missing", "dns.ttl.long"})}
    assert problems({"guard.py": GUARD_SOURCE}, stale, catalog) == [
        "dns.ipv6.missing is in the catalog but nothing declares it",
        "dns.ttl.long is declared but never produced",
        "guard.py produces dns.host.gone, which no check declares, nor does the catalog",
        "guard.py produces dns.ipv6.missing, which no check declares",
    ]


def test_an_audit_stops_on_a_finding_its_check_does_not_declare() -> None:
    asyncio.run(only_declared_ids(1, 2, "dns.hosts", [Finding("dns.host.missing"), Finding("audit.check_failed")]))
    with pytest.raises(AssertionError, match=r"dns\.hosts produced"):
        asyncio.run(only_declared_ids(2, 2, "dns.hosts", [Finding("tls.expired")]))
