"""Issue 9, caches and results: atomic writes, checksums verified on read, corrupt entries recomputed,
concurrent writers (separate spawned processes) never corrupt a key."""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil

import numpy as np
import pytest
from _workers import consistent, payload
from conftest import stray_files

from vaxis.runs.cache import cached_arrays, hash_key, load_arrays


def _entry(cache, ns, parts):
    key = hash_key(parts)
    return cache / ns / f"{key}.npz", cache / ns / f"{key}.json"


def _damage(npz, sidecar, how):
    if how == "flip-byte":
        b = bytearray(npz.read_bytes())
        b[len(b) // 2] ^= 0xFF
        npz.write_bytes(bytes(b))
    elif how == "truncate-npz":
        npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 3])
    elif how == "empty-npz":
        npz.write_bytes(b"")
    elif how == "no-sidecar":
        sidecar.unlink()
    elif how == "no-npz":
        npz.unlink()
    elif how == "sidecar-garbage":
        sidecar.write_text("{not json")
    elif how == "sidecar-wrong-sha":
        sidecar.write_text(json.dumps({"sha256": "0" * 64}))
    elif how == "sidecar-no-sha":
        sidecar.write_text(json.dumps({"meta": {}}))
    elif how == "swapped-entry":  # a complete, valid entry of another key copied over this one
        other_npz, other_json = _entry(npz.parent.parent, npz.parent.name, {"other": 1})
        shutil.copy(other_npz, npz)
    else:
        raise AssertionError(how)


DAMAGES = ["flip-byte", "truncate-npz", "empty-npz", "no-sidecar", "no-npz", "sidecar-garbage", "sidecar-wrong-sha",
           "sidecar-no-sha", "swapped-entry"]


@pytest.mark.parametrize("how", DAMAGES)
def test_corrupt_or_partial_entry_is_detected_and_recomputed(tmp_path, how):
    calls = []

    def compute():
        calls.append(1)
        return payload(3)

    cached_arrays("ns", {"other": 1}, lambda: payload(9), cache_dir=tmp_path)
    parts = {"k": "v"}
    first = cached_arrays("ns", parts, compute, cache_dir=tmp_path)
    npz, sidecar = _entry(tmp_path, "ns", parts)
    _damage(npz, sidecar, how)
    again = cached_arrays("ns", parts, compute, cache_dir=tmp_path)
    assert len(calls) == 2, "a damaged entry must be recomputed, never trusted"
    assert consistent(again) and again["a"][0] == 3
    np.testing.assert_array_equal(again["a"], first["a"])
    assert load_arrays("ns", hash_key(parts), tmp_path) is not None  # rewritten, valid
    assert cached_arrays("ns", parts, compute, cache_dir=tmp_path) and len(calls) == 2  # now a hit
    assert not stray_files(tmp_path)


def test_failed_compute_writes_nothing(tmp_path):
    def boom():
        raise RuntimeError("compute failed")

    with pytest.raises(RuntimeError):
        cached_arrays("ns", {"k": 1}, boom, cache_dir=tmp_path)
    assert not (tmp_path / "ns").exists() or not any((tmp_path / "ns").iterdir())


def test_atomic_write_failure_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    import os

    from vaxis.runs import cache

    target = tmp_path / "f.bin"
    cache.atomic_write_bytes(target, b"old complete")

    def fail_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(OSError):
        cache.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old complete"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_hidden_state_cache_detects_corruption_and_recomputes(tmp_path):
    from vaxis.text import llm

    model = llm.tiny_model(seed=0)
    texts = ["a calm lake", "an angry crowd", "joy"]
    kw = dict(cache_dir=tmp_path, progress=False)
    n0 = llm.FORWARD_CALLS
    h1 = llm.extract(model, texts, **kw)
    assert llm.FORWARD_CALLS > n0
    n1 = llm.FORWARD_CALLS
    h2 = llm.extract(model, texts, **kw)
    assert llm.FORWARD_CALLS == n1 and np.array_equal(h1, h2)  # a hit
    (npz,) = (tmp_path / "hidden").glob("*.npz")
    b = bytearray(npz.read_bytes())
    b[-40] ^= 0x01  # one flipped bit
    npz.write_bytes(bytes(b))
    h3 = llm.extract(model, texts, **kw)
    assert llm.FORWARD_CALLS > n1, "the corrupted entry was trusted"
    assert np.array_equal(h1, h3)


def test_eeg_array_cache_detects_corruption_and_source_changes(faced_dir, tmp_path):
    import pickle

    from vaxis.eeg.datasets import load_faced

    cache = tmp_path / "cache"
    ref = load_faced(faced_dir, cache_dir=cache)
    entries = list((cache / "faced").glob("*.npz"))
    assert len(entries) == 1
    entries[0].write_bytes(entries[0].read_bytes()[:-100])  # a partial entry
    again = load_faced(faced_dir, cache_dir=cache)
    np.testing.assert_array_equal(ref.x, again.x)
    # a changed source file is never served from the old entry (the key holds the files' SHA-256)
    victim = faced_dir / "EEG_Features" / "DE" / "sub000.pkl.pkl"
    arr = pickle.loads(victim.read_bytes())
    victim.write_bytes(pickle.dumps(arr + 1.0))
    changed = load_faced(faced_dir, cache_dir=cache)
    np.testing.assert_allclose(changed.x[0], ref.x[0] + 1.0, atol=1e-5)
    np.testing.assert_array_equal(changed.x[1:], ref.x[1:])
    assert not stray_files(cache)


def test_results_json_atomic_and_verified(tmp_path):
    from vaxis.publish.results import read_results, write_results

    power = {"unit": "benchmark", "n": 4, "alpha": 0.05, "correction": "none", "mde": 0.1, "effect": "AUROC",
             "power": 0.8}
    row = {"claim": 3, "verdict": "partly", "title": "cross-model consistency", "paper": "rho 0.6",
           "ours": "rho 0.5", "data": "synthetic", "rule": "a fixed rule", "power": power}
    p = write_results("03_x", {"data_source": "synthetic", "v": np.float32(0.5), "nan": float("nan"),
                               "scoreboard": [row]}, tmp_path)
    doc = read_results("03_x", tmp_path)
    assert doc["v"] == 0.5 and doc["nan"] is None and doc["scoreboard"][0]["verdict"] == "partly"
    p.write_text(p.read_text()[:-20])  # a partial file (as a non-atomic writer would leave)
    with pytest.raises(ValueError, match="corrupt results file"):
        read_results("03_x", tmp_path)
    write_results("03_x", {"scoreboard": []}, tmp_path)  # rerunning the chapter repairs it
    assert read_results("03_x", tmp_path)["chapter"] == "03_x"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["03_x.json"]


# ------------------------------------------------------------------------------------------- concurrency
def _spawn_pool(n):
    return mp.get_context("spawn").Pool(n)


def test_two_processes_writing_the_same_cache_key(tmp_path):
    from _workers import cache_writer

    with _spawn_pool(2) as pool:
        bad = pool.starmap(cache_writer, [(str(tmp_path), 1, 25), (str(tmp_path), 2, 25)])
    assert bad == [0, 0], "a reader saw a torn entry"
    got = load_arrays("race", hash_key({"shared": "key"}), tmp_path)
    # the final state is one complete entry, or (if the last writers' npz / sidecar pair interleaved) a miss
    assert got is None or (consistent(got) and got["a"][0] in (1, 2))
    assert not stray_files(tmp_path)


def test_two_processes_cached_arrays_same_key(tmp_path):
    from _workers import cached_writer

    with _spawn_pool(2) as pool:
        tags = pool.starmap(cached_writer, [(str(tmp_path), 1), (str(tmp_path), 2)])
    assert sorted(tags) == [1.0, 2.0]  # each process got its own complete result
    hit = cached_arrays("race2", {"shared": "key"}, lambda: payload(7), cache_dir=tmp_path)
    assert consistent(hit) and hit["a"][0] in (1, 2, 7)
    assert not stray_files(tmp_path)


def test_two_processes_writing_the_same_results_file(tmp_path):
    from _workers import results_writer

    from vaxis.publish.results import read_results

    with _spawn_pool(2) as pool:
        bad = pool.starmap(results_writer, [(str(tmp_path), 1, 30), (str(tmp_path), 2, 30)])
    assert bad == [0, 0]
    doc = read_results("09_race", tmp_path)
    assert doc["tag"] in (1, 2) and doc["values"] == [doc["tag"]] * 500
    assert sorted(x.name for x in tmp_path.iterdir()) == ["09_race.json"]
