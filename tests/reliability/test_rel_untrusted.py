"""Issue 9, untrusted files: no data file can run code; every pickle goes through the restricted unpickler."""

from __future__ import annotations

import ast
import io
import pickle
from pathlib import Path

import numpy as np
import pytest
from conftest import malicious_payloads

from vaxis.eeg.safepickle import UnsafePickleError, safe_load, safe_loads

PKG = Path(__file__).resolve().parents[2] / "vaxis"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PAYLOADS = sorted(malicious_payloads(Path("/nonexistent")))


def _payload(marker: Path, name: str) -> tuple[bytes, str]:
    return malicious_payloads(marker)[name]


def test_payloads_are_live_under_plain_pickle(marker):
    """The crafted pickles really execute under ``pickle.loads`` (so the refusals below mean something)."""
    ran = 0
    for name in PAYLOADS:
        data, _ = _payload(marker, name)
        try:
            pickle.loads(data)
        except Exception:
            pass
        ran += marker.exists()
        marker.unlink(missing_ok=True)
    assert ran == len(PAYLOADS)


@pytest.mark.parametrize("name", PAYLOADS)
def test_safe_load_and_loads_refuse_and_run_nothing(tmp_path, marker, name):
    data, refused = _payload(marker, name)
    path = tmp_path / "evil.pkl"
    path.write_bytes(data)
    with pytest.raises(UnsafePickleError) as e:
        safe_load(path)
    assert str(path) in str(e.value) and f"'{refused}'" in str(e.value)
    with pytest.raises(UnsafePickleError) as e:
        safe_loads(data, origin="upload[0]")
    assert "upload[0]" in str(e.value) and f"'{refused}'" in str(e.value)
    assert not marker.exists()


@pytest.mark.parametrize("name", PAYLOADS)
def test_load_faced_refuses_doctored_de_file(faced_dir, tmp_path, marker, name):
    from vaxis.eeg.datasets import data_check, load_faced

    data, refused = _payload(marker, name)
    victim = faced_dir / "EEG_Features" / "DE" / "sub001.pkl.pkl"
    victim.write_bytes(data)
    cache = tmp_path / "cache"
    with pytest.raises(UnsafePickleError) as e:
        load_faced(faced_dir, cache_dir=cache, use_cache=True)
    assert str(victim) in str(e.value) and f"'{refused}'" in str(e.value)
    with pytest.raises(UnsafePickleError):
        data_check(faced_dir)
    assert not marker.exists()
    assert not list(cache.rglob("*.npz")), "a refused load must not leave a cache entry"


def test_cli_data_check_refuses_doctored_file(faced_dir, marker, capsys):
    from vaxis.cli import main

    data, refused = _payload(marker, "os.system")
    (faced_dir / "EEG_Features" / "DE" / "sub000.pkl.pkl").write_bytes(data)
    assert main(["data", "check", str(faced_dir)]) == 1  # issue #26: one line, not a traceback
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and refused in err
    assert not marker.exists()


@pytest.mark.parametrize("key", ["data", "label"])
@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "nested-dict", "builtins.open"])
def test_load_seedv_refuses_doctored_npz(seedv_dir, marker, key, name):
    from vaxis.eeg.seedv import load_seedv

    data, refused = _payload(marker, name)
    path = seedv_dir / "EEG_DE_features" / "1_123.npz"
    with np.load(path, allow_pickle=False) as z:
        keep = {k: z[k] for k in z.files}
    keep[key] = np.frombuffer(data, dtype=np.uint8).tobytes()
    np.savez(path, **keep)
    with pytest.raises(UnsafePickleError) as e:
        load_seedv(seedv_dir)
    assert f"{path}[{key}]" in str(e.value) and f"'{refused}'" in str(e.value)
    assert not marker.exists()


def test_load_seedv_object_array_is_never_unpickled(seedv_dir, marker):
    """An npz holding an *object array* (numpy would unpickle it with allow_pickle=True) is refused unread."""
    import os

    from conftest import _Reduce

    from vaxis.eeg.seedv import load_seedv

    path = seedv_dir / "EEG_DE_features" / "1_123.npz"
    evil = np.empty(1, dtype=object)
    evil[0] = _Reduce(os.system, (f"touch {marker}",))
    np.savez(path, data=evil, label=evil)
    with pytest.raises(ValueError) as e:
        load_seedv(seedv_dir)
    assert str(path) in str(e.value) and "allow_pickle=False" in str(e.value)
    assert not marker.exists()


def test_cache_entry_with_object_array_is_a_miss_not_code(tmp_path, marker):
    """A cache .npz replaced by one holding a pickled object (checksum forged too) is dropped, never unpickled."""
    import hashlib
    import json
    import os

    from conftest import _Reduce

    from vaxis.runs.cache import cached_arrays, hash_key

    parts = {"what": "evil"}
    cached_arrays("ns", parts, lambda: {"a": np.arange(3)}, cache_dir=tmp_path)
    key = hash_key(parts)
    evil = np.empty(1, dtype=object)
    evil[0] = _Reduce(os.system, (f"touch {marker}",))
    buf = io.BytesIO()
    np.savez(buf, a=evil)
    (tmp_path / "ns" / f"{key}.npz").write_bytes(buf.getvalue())
    (tmp_path / "ns" / f"{key}.json").write_text(json.dumps({"sha256": hashlib.sha256(buf.getvalue()).hexdigest()}))
    out = cached_arrays("ns", parts, lambda: {"a": np.arange(3)}, cache_dir=tmp_path)
    np.testing.assert_array_equal(out["a"], np.arange(3))
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------- source scan
def _sources() -> list[Path]:
    return sorted(PKG.rglob("*.py")) + sorted(NOTEBOOKS.glob("*.py"))


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _calls() -> list[tuple[Path, ast.Call, str]]:
    out = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call):
                out.append((path, node, _dotted(node.func)))
    return out


def _kw(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value.value if isinstance(kw.value, ast.Constant) else kw.value
    return None


def test_every_torch_load_passes_weights_only_true():
    bad = [f"{p.name}:{c.lineno}" for p, c, name in _calls()
           if name.endswith("torch.load") and _kw(c, "weights_only") is not True]
    assert not bad, f"torch.load without weights_only=True at {bad}"


def test_no_unrestricted_unpickling_anywhere():
    """pickle / joblib / pandas / dill loaders appear only in safepickle.py; np.load never allows pickles."""
    loaders = ("pickle.load", "pickle.loads", "pickle.Unpickler", "joblib.load", "pd.read_pickle",
               "pandas.read_pickle", "dill.load", "dill.loads", "cloudpickle.load", "cloudpickle.loads",
               "marshal.loads", "shelve.open")
    bad, np_loads = [], 0
    for path, call, name in _calls():
        if name in loaders and path.name != "safepickle.py":
            bad.append(f"{path.name}:{call.lineno} {name}")
        if name in ("np.load", "numpy.load"):
            np_loads += 1
            if _kw(call, "allow_pickle") is not False:
                bad.append(f"{path.name}:{call.lineno} np.load without allow_pickle=False")
    assert not bad, bad
    assert np_loads >= 2  # the scan sees the real readers (cache, SEED-V)
    text = "\n".join(p.read_text() for p in _sources())
    assert "from pickle import load" not in text and "import _pickle" not in text


def test_safepickle_is_the_only_unpickler_and_allows_no_callable_with_side_effects():
    from vaxis.eeg.safepickle import ALLOWED_GLOBALS

    dangerous = {"eval", "exec", "system", "open", "getattr", "__import__", "call", "Popen", "load", "loads",
                 "apply", "compile", "setattr", "globals"}
    assert not {n for _, n in ALLOWED_GLOBALS} & dangerous
    assert {m.split(".")[0] for m, _ in ALLOWED_GLOBALS} <= {"numpy", "_codecs", "collections", "builtins",
                                                           "__builtin__"}
