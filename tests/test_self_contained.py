"""The suite stands on its own: nothing in the tests, the Makefile, the scripts or CI reads outside the repository."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_TEXT_FILES = ["Makefile", ".ci/run", *[str(p.relative_to(ROOT)) for p in (ROOT / "scripts").rglob("*.sh")]]
# The sibling folders a checkout may happen to have beside it (upload-traversal test data like "../../x" is fine).
_OUTSIDE = re.compile(r"\.\./(?:\.\./)*shared/|/work/")


def _python_files() -> list[Path]:
    files = [p for folder in ("tests", "scripts") for p in (ROOT / folder).rglob("*.py") if p.is_file()]
    return [p for p in files if p != Path(__file__).resolve()]  # this guard spells the patterns it looks for


def _parents_reach(node: ast.AST) -> int | None:
    """`Path(__file__)[.resolve()].parents[N]`: N, when the expression has that shape."""
    if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)):
        return None
    if node.value.attr != "parents" or not isinstance(node.slice, ast.Constant):
        return None
    source = ast.unparse(node.value.value)
    if "__file__" not in source:
        return None
    return int(node.slice.value)


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_it_never_climbs_out_of_the_repository_from_python(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    depth = len(path.relative_to(ROOT).parts) - 1  # parents[depth] is the repository root
    for node in ast.walk(tree):
        reach = _parents_reach(node)
        assert reach is None or reach <= depth, f"{path.name}:{node.lineno} reads above the repository root"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert not _OUTSIDE.search(node.value), f"{path.name}:{node.lineno} names a path outside the repository"


@pytest.mark.parametrize("name", _TEXT_FILES)
def test_it_never_names_a_path_outside_the_repository_in_build_files(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    assert not _OUTSIDE.search(text), f"{name} names a path outside the repository"


def test_the_vendored_suites_carry_their_licences() -> None:
    data = ROOT / "tests/data"
    for suite, licence in (
        ("spf", "rfc7208-tests.LICENSE"),
        ("psl", "LICENSE"),
        ("dmarc", "LICENSE"),
        ("sarif", "NOTICE"),
    ):
        assert (data / suite / licence).read_text(encoding="utf-8").strip()
        assert f"`{suite}/" in (data / "README.md").read_text(encoding="utf-8")


def test_the_guard_sees_a_climb() -> None:
    """The shape the guard looks for is the shape the old tests had."""
    old = ast.parse('SUITE = Path(__file__).resolve().parents[3] / "x"')
    assert [_parents_reach(n) for n in ast.walk(old) if _parents_reach(n) is not None] == [3]
    sibling = "/".join(["..", "shared", "testsuites"])  # spelt in parts: this file names no outside path itself
    assert _OUTSIDE.search(sibling)
