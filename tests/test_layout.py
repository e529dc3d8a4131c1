"""The house of issue 18: every module fits in one sitting (at most 400 lines), and the flat module paths of 0.2
still import, with a DeprecationWarning, as the very module objects of their new homes."""

from __future__ import annotations

import importlib
import sys
import warnings
from pathlib import Path

import pytest

import vaxis
from vaxis import _legacy

PKG = Path(vaxis.__file__).resolve().parent
MAX_LINES = 400


def test_no_module_over_400_lines():
    sizes = {p.relative_to(PKG).as_posix(): len(p.read_text().splitlines()) for p in PKG.rglob("*.py")}
    assert {m: n for m, n in sizes.items() if n > MAX_LINES} == {}


def _forget(old: str) -> None:
    """Drop the alias so the next import goes through the finder again (and warns again)."""
    sys.modules.pop(old, None)
    vaxis.__dict__.pop(old.rpartition(".")[2], None)


@pytest.mark.parametrize("old", sorted(_legacy.MOVED))
def test_old_path_imports_the_new_module_with_a_warning(old):
    new = _legacy.MOVED[old]
    assert not (PKG / f"{old.rpartition('.')[2]}.py").exists()          # no shim file left behind
    _forget(old)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}; the old path goes in 0.4"):
        mod = importlib.import_module(old)
    assert mod is importlib.import_module(new)
    assert sys.modules[old] is sys.modules[new]
    _forget(old)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
        attr = getattr(vaxis, old.rpartition(".")[2])                 # from vaxis import <old name>
    assert attr is sys.modules[new]
    _forget(old)


def test_from_vaxis_import_and_attribute_access_of_moved_names():
    _forget("vaxis.benchmarks")
    _forget("vaxis.training")
    with pytest.warns(DeprecationWarning, match="vaxis.training moved to vaxis.decoding.training"):
        from vaxis import training
    from vaxis.decoding import training as new
    assert training is new
    with pytest.warns(DeprecationWarning, match="vaxis.benchmarks moved to vaxis.text.sentiment"):
        from vaxis.benchmarks import auroc
    from vaxis.text.sentiment_metrics import auroc as new_auroc
    assert auroc is new_auroc
    _forget("vaxis.benchmarks")
    _forget("vaxis.training")


def test_new_paths_import_without_a_warning_and_unknown_names_fail():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for new in sorted(set(_legacy.MOVED.values())):
            importlib.import_module(new)
    with pytest.raises(AttributeError):
        vaxis.no_such_module  # noqa: B018
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("vaxis.no_such_module")


def test_version_is_the_layout_release():
    import tomllib

    pyproject = tomllib.loads((PKG.parent / "pyproject.toml").read_text())
    assert vaxis.__version__ == pyproject["project"]["version"] == "0.3.0"


def test_every_job_function_named_in_the_sources_and_the_book_resolves():
    """Stored sweep jobs name their function as ``"module:function"``: every such name in the package, the chapters
    and the book's pages imports (no 0.2 path among them)."""
    import re

    root = PKG.parent
    files = [*PKG.rglob("*.py"), *(root / "notebooks").glob("*.py"), *(root / "book").glob("*.md"),
             root / "README.md", root / "CONTRIBUTING.md"]
    found = {m for f in files for m in re.findall(r"\bvaxis(?:\.\w+)+:\w+", f.read_text())}
    assert len(found) >= 6
    for name in sorted(found):
        module, _, fn = name.partition(":")
        assert module not in _legacy.MOVED, name
        assert callable(getattr(importlib.import_module(module), fn)), name


def test_old_module_keeps_its_own_spec_and_old_dash_m_paths_still_run():
    import os
    import subprocess

    _forget("vaxis.training")
    with pytest.warns(DeprecationWarning):
        old = importlib.import_module("vaxis.training")
    assert old.__spec__.name == old.__name__ == "vaxis.decoding.training"
    _forget("vaxis.training")
    env = {**os.environ, "PYTHONPATH": str(PKG.parent)}
    out = subprocess.run([sys.executable, "-W", "always::DeprecationWarning", "-m", "vaxis.book", "sync", "--check"],
                         cwd=PKG.parent, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "vaxis.book moved to vaxis.publish.book" in out.stderr
