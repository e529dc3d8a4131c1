"""Restricted unpickler: rebuilds numpy arrays, refuses everything else (and never runs the payload)."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from vaxis.eeg.safepickle import UnsafePickleError, safe_load, safe_loads


class _Payload:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_roundtrip_arrays_and_containers(tmp_path, protocol):
    obj = {0: np.arange(12, dtype=np.float64).reshape(3, 4), "b": [np.float32(1.5), 3, "x", None, (True, b"z")],
           "c": np.zeros((2, 0, 5), dtype=np.float32), "d": np.array([1 + 2j])}
    p = tmp_path / "a.pkl"
    p.write_bytes(pickle.dumps(obj, protocol=protocol))
    out = safe_load(p)
    np.testing.assert_array_equal(out[0], obj[0])
    assert out[0].dtype == np.float64 and out["c"].shape == (2, 0, 5)
    assert out["b"][:4] == [1.5, 3, "x", None] and out["b"][4] == (True, b"z")
    np.testing.assert_array_equal(out["d"], obj["d"])


def test_refuses_os_system_and_never_runs_it(tmp_path):
    marker = tmp_path / "PWNED"
    p = tmp_path / "evil.pkl"
    p.write_bytes(pickle.dumps({"x": np.zeros(3), "y": _Payload(str(marker))}))
    with pytest.raises(UnsafePickleError) as err:
        safe_load(p)
    msg = str(err.value)
    assert str(p) in msg and ("posix.system" in msg or "os.system" in msg or "nt.system" in msg)
    assert not marker.exists()
    # the same payload really does run under plain pickle (the test can fail)
    pickle.loads(p.read_bytes())
    assert marker.exists()


def test_refuses_other_globals():
    with pytest.raises(UnsafePickleError, match="builtins.eval"):
        safe_loads(b"cbuiltins\neval\n(S'1+1'\ntR.", origin="mem")


def _global_call(module: str, name: str, *args: str) -> bytes:
    """A hand-written protocol-0 pickle calling ``module.name(*args)`` (string arguments)."""
    return f"c{module}\n{name}\n(".encode() + b"".join(f"S{a!r}\n".encode() for a in args) + b"tR."


def test_refuses_an_allowed_name_from_another_module(tmp_path):
    """The allow-list is of (module, name) pairs: ``uu.encode`` is not ``_codecs.encode``, and it writes a file."""
    import warnings

    src, dst = tmp_path / "secret.txt", tmp_path / "written-by-pickle"
    src.write_text("anything")
    data = _global_call("uu", "encode", str(src), str(dst))
    with pytest.raises(UnsafePickleError, match=r"uu\.encode"):
        safe_loads(data, origin="mem")
    assert not dst.exists()
    with warnings.catch_warnings():                    # uu is deprecated in 3.11; the payload is live all the same
        warnings.simplefilter("ignore", DeprecationWarning)
        pickle.loads(data)
    assert dst.exists()                                # plain pickle runs it (the test can fail)


def test_every_allowed_name_is_refused_from_a_disallowed_module():
    """Each allowed name asked for from a module outside its pair is refused as unsafe (not looked up at all)."""
    from vaxis.eeg.safepickle import ALLOWED_GLOBALS

    for module, name in sorted(ALLOWED_GLOBALS):
        for other in ("os", "subprocess", "numpy.lib.npyio", module + "x"):
            with pytest.raises(UnsafePickleError, match=rf"'{other}\.{name}'"):
                safe_loads(f"c{other}\n{name}\n.".encode(), origin="mem")


def test_empty_and_truncated(tmp_path):
    empty = tmp_path / "empty.pkl"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"file is empty \(0 bytes\)"):     # not just "empty" from the file name
        safe_load(str(empty))
    trunc = tmp_path / "trunc.pkl"
    trunc.write_bytes(pickle.dumps(np.ones((28, 32, 30, 5)))[:5000])
    with pytest.raises(ValueError, match=r"trunc\.pkl.*truncated"):
        safe_load(trunc)
    with pytest.raises(FileNotFoundError, match=r"missing\.pkl: no such file"):
        safe_load(tmp_path / "missing.pkl")
    with pytest.raises(FileNotFoundError, match="no such file"):
        safe_load(tmp_path)                                   # a folder is not a file


def test_latin1_python2_pickle():
    # a protocol-2 pickle with a Python-2 str holding a non-ASCII byte (as numpy arrays from Python 2 do)
    data = b"\x80\x02U\x03\xe9abq\x00."
    assert safe_loads(data) == "\xe9ab"
