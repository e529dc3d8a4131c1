"""tools/mutants.py (``make mutants``): its mutants are valid code, one edit each, and its targets exist."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TOY = '''"""Docstring: never mutated."""

__all__ = ["f"]


def f(x: int = 3, flag: bool = True) -> int:
    """Docstring."""
    if x < 2 and flag:
        raise ValueError(f"x={x} too small")
    y = x + 1
    return -y
'''


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("vaxis_mutants_tool", ROOT / "tools" / "mutants.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod                                   # dataclasses look their module up
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop(spec.name, None)


def test_targets_exist_and_name_their_tests(tool):
    for module, (path, _, tests) in tool.TARGETS.items():
        assert (ROOT / path).is_file(), module
        for t in tests:
            file, _, name = t.partition("::")
            assert (ROOT / file).is_file(), t
            assert not name or f"def {name}(" in (ROOT / file).read_text(), t
        assert tool.enumerate_mutants(module), module             # every named function is found


def test_toy_module_gets_exactly_the_expected_mutants(tool, tmp_path, monkeypatch):
    (tmp_path / "toy.py").write_text(TOY)
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    monkeypatch.setitem(tool.TARGETS, "toy", ("toy.py", ("f",), ()))
    ms = tool.enumerate_mutants("toy")
    got = sorted((m.line, m.kind, m.what) for m in ms)
    assert got == sorted([
        (8, "negate", "condition -> not (condition)"), (8, "boolop", "and -> or"), (8, "compare", "< -> <="),
        (8, "const", "2 -> 3"), (6, "const", "True -> False"),         # the bool default; `x: int = 3` is skipped
        (10, "binop", "+ -> -"), (10, "const", "1 -> 2"), (11, "unary", "drop unary -"),
        (8, "delete-body", "delete `if x < 2 and flag:`"), (10, "delete-body", "delete `y = x + 1`"),
        (11, "delete-body", "delete `return -y`"), (9, "delete-body", "delete `raise ValueError(f'x={x} too small')`"),
    ]), got
    base = ast.unparse(ast.parse(TOY))
    for m in ms:                                                   # each compiles and differs from the original
        out = tool.apply(m, TOY)
        compile(out, "toy.py", "exec")
        assert out.strip() != base.strip(), m
    space: dict = {}
    exec(tool.apply(next(m for m in ms if m.kind == "compare"), TOY), space)
    with pytest.raises(ValueError):
        space["f"](2)                                              # `x <= 2` now refuses 2
    exec(tool.apply(next(m for m in ms if m.kind == "unary"), TOY), space)
    assert space["f"](5) == 6
