"""The package's import graph, read from the source with every import statement anywhere in a module (module level,
inside functions, methods and branches): no cycle between modules, and no arrow from a lower stage to a higher one."""

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


def graph(top_level_only: bool = False) -> dict[str, set[str]]:
    """module -> vaxis modules it imports: every ``Import`` / ``ImportFrom`` node anywhere in the module (an ast walk),
    or only the module-level statements when ``top_level_only`` (TYPE_CHECKING blocks skipped there)."""
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


def test_imports_have_no_cycle():
    """No cycle, function-level imports included: an import moved into a function to dodge a cycle still counts."""
    assert _cycles(graph()) == []


def test_the_walk_sees_imports_inside_functions():
    """The graph reads an import nested in a function (``vaxis.eeg.datasets`` imports the cache root inside
    :func:`~vaxis.eeg.datasets.resolve_faced_dir` only)."""
    assert "vaxis.runs.cache" in graph()["vaxis.eeg.datasets"]
    assert graph(top_level_only=True)["vaxis.eeg.datasets"] <= graph()["vaxis.eeg.datasets"]


#: Stages, low to high. A module may import its own stage and lower ones, never a higher one; ``text`` and ``eeg``
#: are peers that never import each other (the two data stages are independent). ``cli`` is the top. No exception:
#: ``runs`` knows no dataset (the FACED job base lives in ``vaxis.claims.common.jobs``).
STAGE_RANK = {"stats": 0, "runs": 1, "text": 2, "eeg": 2, "decoding": 3, "claims": 4, "publish": 5, "cli": 6}


def _stage(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGE_RANK else None


def test_no_import_from_a_lower_stage_to_a_higher_one():
    """The order enforced (imports anywhere in a module, function level included):
    ``stats`` < ``runs`` < ``text`` | ``eeg`` < ``decoding`` < ``claims`` < ``publish`` < ``cli``.

    So ``stats``, ``runs``, ``decoding``, ``text`` and ``eeg`` never import ``claims`` or ``publish``, ``claims``
    never imports ``publish``, ``text`` and ``eeg`` never import each other, and ``decoding`` may read ``eeg`` (the
    data it consumes). There is no exception list."""
    bad = []
    for mod, deps in graph().items():
        a = _stage(mod)
        for dep in deps:
            b = _stage(dep)
            if a is None or b is None or a == b:
                continue
            if STAGE_RANK[b] >= STAGE_RANK[a]:
                bad.append(f"{mod} ({a}) -> {dep} ({b})")
    assert sorted(bad) == []


def test_stats_is_the_floor():
    assert graph()["vaxis.stats"] == set()


def test_every_module_belongs_to_a_stage():
    """Only the package's entry points stay at the top; everything else lives in a stage folder."""
    top = {p.stem for p in PKG.glob("*.py")}
    assert top <= {"__init__", "__main__", "stats", "cli"}
    assert {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == \
        {"text", "eeg", "decoding", "claims", "runs", "publish"}
