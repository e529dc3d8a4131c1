import multiprocessing as mp
import os

import numpy as np
import pytest

from vaxis.runs import cache


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


def test_cache_and_job_ids_follow_the_code(tmp_path):
    """Edit a module of a copy of the package: the entries it computes are recomputed and sweep job ids change; an
    edit elsewhere leaves a module-scoped entry valid."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import vaxis

    pkg = tmp_path / "src" / "vaxis"
    shutil.copytree(Path(vaxis.__file__).parent, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    script = ("import sys; from vaxis.runs.cache import cached_arrays; from vaxis.runs.sweep import Grid; calls = []\n"
              "cached_arrays('t', {'a': 1}, lambda: calls.append(1) or {'x': [1]}, cache_dir=sys.argv[1],"
              " code=('eeg/pipeline',))\n"
              "print(len(calls), Grid(axes={'f': [0]}).jobs()[0].id)\n")

    def run() -> tuple[int, str]:
        out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "cache")], capture_output=True, text=True,
                             cwd=tmp_path,
                             env={"PYTHONPATH": str(tmp_path / "src"), "PATH": "/usr/bin:/bin"}, check=True).stdout
        n, jid = out.split()
        return int(n), jid

    n1, id1 = run()
    n2, id2 = run()
    assert (n1, n2) == (1, 0) and id1 == id2                    # computed once, then read back
    with open(pkg / "stats.py", "a") as f:
        f.write("\n# an edit elsewhere\n")
    n3, id3 = run()
    assert n3 == 0 and id3 != id2                               # the pipeline entry stays; every job id changes
    with open(pkg / "eeg" / "pipeline.py", "a") as f:
        f.write("\n# an edit in the module that computes the entry\n")
    n4, _ = run()
    assert n4 == 1                                              # recomputed


def test_source_hash_names_modules_by_path_or_dotted_name_from_the_package_root():
    from vaxis.runs.cache import source_hash

    assert source_hash(["eeg/pipeline", "runs/cache"]) == source_hash(["vaxis.eeg.pipeline", "runs.cache"])
    assert source_hash(["eeg/pipeline"]) != source_hash(["eeg/normalise"])
    with pytest.raises(FileNotFoundError, match="pipeline"):
        source_hash(["pipeline"])                                   # a 0.2 flat path names no file now


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_cache_and_results_files_get_the_users_umask(tmp_path, umask):
    """Issue #26 item 6: cache entries, results and store records were written 0600 whatever the umask, which breaks
    a cache shared through group permissions; they now get ``0o666 & ~umask`` like any file the user writes."""
    from vaxis.publish.results import write_results

    old = os.umask(umask)
    try:
        npz = cache.save_arrays("shared", "k", {"x": np.arange(3)}, cache_dir=tmp_path / "cache")
        out = write_results("99_mode", {"data_source": "synthetic", "scoreboard": []}, results_dir=tmp_path / "res")
        folder = cache.temp_dir(tmp_path, ".conv.")
        fd, tmp = cache.temp_file(tmp_path, ".part.")
        os.close(fd)
        plain = tmp_path / "plain.txt"
        plain.write_text("x")  # what open() gives under this umask: the reference
    finally:
        os.umask(old)
    want = 0o666 & ~umask
    assert plain.stat().st_mode & 0o777 == want
    for f in (npz, npz.with_suffix(".json"), out, tmp):
        assert f.stat().st_mode & 0o777 == want, (f.name, oct(f.stat().st_mode & 0o777))
    assert folder.is_dir() and folder.stat().st_mode & 0o777 == 0o777 & ~umask
    assert cache.load_arrays("shared", "k", cache_dir=tmp_path / "cache")["x"].tolist() == [0, 1, 2]


def test_atomic_dir_publishes_whole_folders_only(tmp_path):
    """A folder appears complete or not at all; a folder another process published first is kept."""
    from vaxis.runs.cache import atomic_dir

    out = tmp_path / "model"
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "half.bin").write_bytes(b"x")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []                       # nothing half-written, no temporary left
    with atomic_dir(out) as tmp:
        (tmp / "config.json").write_text("{}")
    assert [p.name for p in out.iterdir()] == ["config.json"]
    with atomic_dir(out) as tmp:                                # the race lost: the first complete copy stays
        (tmp / "other.json").write_text("{}")
    assert [p.name for p in out.iterdir()] == ["config.json"] and [p.name for p in tmp_path.iterdir()] == ["model"]
