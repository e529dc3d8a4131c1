import multiprocessing as mp
import os

import numpy as np
import pytest

from vaxis import cache


def test_hash_key_stable_and_sensitive():
    a = cache.hash_key({"model": "m", "layers": [1, 2]})
    assert a == cache.hash_key({"layers": [1, 2], "model": "m"})
    assert a != cache.hash_key({"model": "m", "layers": [1, 3]})


def test_miss_then_hit(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(6.0).reshape(2, 3)}

    first = cache.cached_arrays("t", {"k": 1}, compute, cache_dir=tmp_path)
    second = cache.cached_arrays("t", {"k": 1}, compute, cache_dir=tmp_path)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["x"], second["x"])


@pytest.mark.parametrize("damage", ["flip", "truncate", "no-sidecar", "bad-json"])
def test_corrupt_entry_is_recomputed(tmp_path, damage):
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.ones(100)}

    cache.cached_arrays("t", {"k": 2}, compute, cache_dir=tmp_path)
    key = cache.hash_key({"k": 2})
    npz, side = tmp_path / "t" / f"{key}.npz", tmp_path / "t" / f"{key}.json"
    if damage == "flip":
        data = bytearray(npz.read_bytes())
        data[len(data) // 2] ^= 0xFF
        npz.write_bytes(bytes(data))
    elif damage == "truncate":
        npz.write_bytes(npz.read_bytes()[:50])
    elif damage == "no-sidecar":
        side.unlink()
    else:
        side.write_text("{not json")
    out = cache.cached_arrays("t", {"k": 2}, compute, cache_dir=tmp_path)
    assert len(calls) == 2
    np.testing.assert_array_equal(out["x"], np.ones(100))
    assert cache.load_arrays("t", key, cache_dir=tmp_path) is not None  # healed


def _writer(args):
    root, seed = args
    for _ in range(20):
        cache.save_arrays("c", "samekey", {"x": np.full(10_000, 7.0)}, cache_dir=root)
    return seed


def test_concurrent_writers_same_key(tmp_path):
    with mp.get_context("spawn").Pool(2) as pool:
        pool.map(_writer, [(str(tmp_path), 0), (str(tmp_path), 1)])
    out = cache.load_arrays("c", "samekey", cache_dir=tmp_path)
    assert out is not None and np.all(out["x"] == 7.0)
    assert not [p for p in os.listdir(tmp_path / "c") if p.endswith(".tmp")]


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        cache.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
