"""The house: every module fits in one sitting (at most 400 lines), one folder per claim, and the flat module paths of
0.2 are gone (0.4), each listed in CHANGELOG.md with its new home."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import vaxis

PKG = Path(vaxis.__file__).resolve().parent
MAX_LINES = 400
#: a few 0.2 flat paths (the full list is in CHANGELOG.md)
OLD_PATHS = ("vaxis.training", "vaxis.benchmarks", "vaxis.alignment_jobs", "vaxis.book", "vaxis.jobs")


def test_no_module_over_400_lines():
    sizes = {p.relative_to(PKG).as_posix(): len(p.read_text().splitlines()) for p in PKG.rglob("*.py")}
    assert {m: n for m, n in sizes.items() if n > MAX_LINES} == {}


def test_claims_is_one_folder_per_claim():
    claims = PKG / "claims"
    assert {p.stem for p in claims.glob("*.py")} == {"__init__"}
    assert {p.name for p in claims.iterdir() if (p / "__init__.py").exists()} == {
        "common", "projection", "rediscovery", "alignment", "saturation", "ensemble", "reference", "stimulus"}


@pytest.mark.parametrize("old", OLD_PATHS)
def test_the_0_2_paths_are_gone_and_listed_in_the_changelog(old):
    assert not (PKG / "_legacy.py").exists()
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(old)
    with pytest.raises(AttributeError):
        getattr(vaxis, old.rpartition(".")[2])
    assert f"`{old}`" in (PKG.parent / "CHANGELOG.md").read_text()


def test_version_is_the_layout_release():
    import tomllib

    pyproject = tomllib.loads((PKG.parent / "pyproject.toml").read_text())
    assert vaxis.__version__ == pyproject["project"]["version"] == "0.4.0"
    assert "## 0.4.0" in (PKG.parent / "CHANGELOG.md").read_text()


def test_every_job_function_named_in_the_sources_and_the_book_resolves():
    """Stored sweep jobs name their function as ``"module:function"``: every such name in the package, the chapters
    and the book's pages imports and is callable."""
    root = PKG.parent
    files = [*PKG.rglob("*.py"), *(root / "notebooks").glob("*.py"), *(root / "book").glob("*.md"),
             root / "README.md", root / "CONTRIBUTING.md"]
    found = {m for f in files for m in re.findall(r"\bvaxis(?:\.\w+)+:\w+", f.read_text())}
    assert len(found) >= 5
    for name in sorted(found):
        module, _, fn = name.partition(":")
        assert callable(getattr(importlib.import_module(module), fn)), name


def test_chapters_name_no_job_function():
    """Chapters call their claim's entry point; no chapter types a ``"module:function"`` job string."""
    for nb in sorted((PKG.parent / "notebooks").glob("*.py")):
        assert not re.findall(r"[\"']vaxis(?:\.\w+)+:\w+[\"']", nb.read_text()), nb.name


def test_no_assert_statements_guard_the_package():
    """``python -O`` strips ``assert``: no check in vaxis/ may rely on one (leakage guards raise ValueError)."""
    import ast
    from pathlib import Path

    import vaxis

    found = [f"{path.name}:{node.lineno}" for path in sorted(Path(vaxis.__file__).parent.rglob("*.py"))
             for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Assert)]
    assert found == []
