"""The package's module-level import graph, read from the source: no cycle, and no import inside a function that
only dodges one."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "vaxis"


def _module(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(mod: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = mod.split(".")[: -node.level] if not mod.endswith("__init__") else mod.split(".")
    return ".".join(base + ([node.module] if node.module else []))


def graph(top_level_only: bool = True) -> dict[str, set[str]]:
    """module -> vaxis modules it imports (at module level when ``top_level_only``; TYPE_CHECKING blocks skipped)."""
    modules = {_module(p): p for p in PKG.rglob("*.py")}
    out: dict[str, set[str]] = {}
    for mod, path in modules.items():
        tree = ast.parse(path.read_text())
        nodes = tree.body if top_level_only else list(ast.walk(tree))
        deps = set()
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, node)
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            for n in names:
                while n and n not in modules:
                    n = n.rpartition(".")[0]
                if n and n.startswith("vaxis") and n != mod and n != "vaxis":
                    deps.add(n)
        out[mod] = deps
    return out


def _cycles(g: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            visit(n)
    return found


def test_module_level_imports_have_no_cycle():
    assert _cycles(graph()) == []


def _reaches(g: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        n = todo.pop()
        if n == goal:
            return True
        if n not in seen:
            seen.add(n)
            todo += list(g.get(n, ()))
    return False


def test_no_function_level_import_closes_a_cycle():
    """An import inside a function of ``mod`` from ``dep`` is a dodge when ``dep`` imports ``mod`` at module level
    (directly or through others): moved to the top it would close a cycle."""
    top, full = graph(True), graph(False)
    dodges = [f"{mod} -> {dep}" for mod, deps in full.items() for dep in sorted(deps - top[mod])
              if _reaches(top, dep, mod)]
    assert dodges == []
