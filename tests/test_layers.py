"""The layers hold: no import circle between modules, and no import hidden in a function to dodge one."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("launchready", "accounts", "audits", "monitoring", "handover", "reports", "web")
# An import inside a function is allowed for one reason: start-up cost. The comment above it says so.
LAZY_MARK = "lazy import"


def _first_party(module: str) -> bool:
    return module.split(".")[0] in APPS


def _function_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """Imports of the project's own modules that sit inside a function body."""
    found: list[tuple[int, str]] = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            found += [(node.lineno, name) for name in names if _first_party(name)]
    return sorted(set(found))


def _unmarked(source: str) -> list[tuple[int, str]]:
    lines = source.splitlines()
    return [
        (lineno, name)
        for lineno, name in _function_imports(ast.parse(source))
        if LAZY_MARK not in lines[lineno - 2].lower()  # the line above the import
    ]


def _product_files() -> list[Path]:
    files = [p for app in APPS if (ROOT / app).is_dir() for p in (ROOT / app).rglob("*.py")]
    return sorted(p for p in files if "migrations" not in p.parts)


@pytest.mark.parametrize("path", _product_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_it_imports_nothing_of_its_own_inside_a_function_without_a_reason(path: Path) -> None:
    unmarked = _unmarked(path.read_text(encoding="utf-8"))
    assert not unmarked, f"{path.relative_to(ROOT)}: move to the top, or say `# {LAZY_MARK}: <why>` above: {unmarked}"


def test_the_guard_sees_an_import_hidden_in_a_function() -> None:
    hidden = "def f():\n    from audits.tasks import run\n    return run\n"
    lazy = f"def f():\n    # {LAZY_MARK}: the PDF engine takes a second to load\n    import audits.pdf\n"
    assert _unmarked(hidden) == [(2, "audits.tasks")]
    assert _unmarked(lazy) == []


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), migrations left out."""
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if ".migrations" in imported:
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in modules:
        if module not in index:
            visit(module)
    return found


def test_no_two_modules_import_each_other_even_through_others() -> None:
    graph = grimp.build_graph(*[app for app in APPS if (ROOT / app).is_dir()])
    assert _cycles(graph) == []


def test_the_cycle_finder_sees_a_circle() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in (("a.x", "a.y"), ("a.y", "a.z"), ("a.z", "a.x"), ("a.z", "a.w")):
        graph.add_import(importer=importer, imported=imported)
    assert _cycles(graph) == [["a.x", "a.y", "a.z"]]
