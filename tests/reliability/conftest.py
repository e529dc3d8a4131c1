"""Shared fixtures for the reliability suite: a tiny synthetic FACED / SEED-V folder, crafted malicious pickles."""

from __future__ import annotations

import builtins
import os
import pickle
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def faced_template(tmp_path_factory) -> Path:
    """A 3-subject synthetic FACED folder (DE + ratings), generated once; copy it before damaging it."""
    from vaxis.eeg.synthetic import make_faced

    root = tmp_path_factory.mktemp("faced_template") / "faced"
    make_faced(root, n_subjects=3, seed=1, kinds=("de", "ratings"))
    return root


@pytest.fixture
def faced_dir(faced_template, tmp_path) -> Path:
    """A private copy of the synthetic FACED folder that a test may damage."""
    dst = tmp_path / "faced"
    shutil.copytree(faced_template, dst)
    return dst


@pytest.fixture(scope="session")
def seedv_template(tmp_path_factory) -> Path:
    from vaxis.eeg.synthetic import make_seedv

    root = tmp_path_factory.mktemp("seedv_template") / "seedv"
    make_seedv(root, n_subjects=1, seed=0, n_windows=(2, 3))
    return root


@pytest.fixture
def seedv_dir(seedv_template, tmp_path) -> Path:
    dst = tmp_path / "seedv"
    shutil.copytree(seedv_template, dst)
    return dst


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes): used to prove nothing was half-written."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def stray_files(folder: Path) -> list[str]:
    """Temporary / partial files left under ``folder`` (atomic-write temps, ``*.tmp``, ``*.running*``)."""
    if not folder.exists():
        return []
    return sorted(str(p) for p in folder.rglob("*") if p.is_file()
                  and (p.name.endswith(".tmp") or ".running" in p.name or p.name.startswith(".tmp")))


# ------------------------------------------------------------------------------------------ malicious pickles
class _Reduce:
    """An object whose unpickling calls ``func(*args)``."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def malicious_payloads(marker: Path) -> dict[str, tuple[bytes, str]]:
    """name -> (pickle bytes that would create ``marker`` if run, the global the unpickler must refuse)."""
    m = str(marker)
    out: dict[str, tuple[bytes, str]] = {}
    # classic __reduce__ -> os.system (pickled as posix.system / nt.system)
    sysmod = os.system.__module__
    out["os.system"] = (pickle.dumps(_Reduce(os.system, (f"touch {m}",)), protocol=4), f"{sysmod}.system")
    out["subprocess.call"] = (pickle.dumps(_Reduce(subprocess.call, (["touch", m],)), protocol=4),
                              "subprocess.call")
    out["builtins.eval"] = (pickle.dumps(_Reduce(builtins.eval, (f"open({m!r}, 'w').close()",)), protocol=4),
                            "builtins.eval")
    out["builtins.exec"] = (pickle.dumps(_Reduce(builtins.exec, (f"open({m!r}, 'w').close()",)), protocol=0),
                            "__builtin__.exec")  # protocol 0 writes Python-2 names
    # reduce to an arbitrary (non-"dangerous"-looking) callable that still has a side effect
    out["builtins.open"] = (pickle.dumps(_Reduce(builtins.open, (m, "w")), protocol=4), "io.open")
    out["shutil.copyfile"] = (pickle.dumps(_Reduce(shutil.copyfile, (os.devnull, m)), protocol=3),
                              "shutil.copyfile")
    # nested inside a dict next to a legitimate array (what a doctored FACED / SEED-V file would look like)
    out["nested-dict"] = (pickle.dumps({0: np.ones((2, 310)), 1: _Reduce(os.system, (f"touch {m}",))}, protocol=4),
                          f"{sysmod}.system")
    # hand-written protocol-0 GLOBAL opcode and the getattr bypass
    out["raw-protocol0"] = (f"cos\nsystem\n(S'touch {m}'\ntR.".encode(), "os.system")
    out["getattr-bypass"] = (
        f"cbuiltins\ngetattr\n(cbuiltins\n__import__\n(S'os'\ntRS'system'\ntR(S'touch {m}'\ntR.".encode(),
        "builtins.getattr")
    # a numpy function that is not a data constructor
    out["numpy.savetxt"] = (pickle.dumps(_Reduce(np.savetxt, (m, np.zeros(1))), protocol=4), "numpy.savetxt")
    return out


@pytest.fixture
def marker(tmp_path) -> Path:
    p = tmp_path / "PWNED"
    assert not p.exists()
    return p
