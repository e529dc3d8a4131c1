"""Worker functions for the reliability suite's multi-process tests (importable by spawned children)."""

from __future__ import annotations

import numpy as np

N = 50_000


def payload(tag: int) -> dict[str, np.ndarray]:
    """A self-describing entry: every element equals ``tag`` (a torn entry would mix tags)."""
    return {"a": np.full(N, tag, dtype=np.float64), "b": np.arange(tag, tag + 7)}


def consistent(arrays) -> bool:
    a = arrays["a"]
    return a.shape == (N,) and np.all(a == a[0]) and np.array_equal(arrays["b"], np.arange(a[0], a[0] + 7))


def cache_writer(cache_dir: str, tag: int, rounds: int) -> int:
    """Write the same key ``rounds`` times (forced recompute), reading back in between; returns bad reads."""
    from vaxis.runs.cache import hash_key, load_arrays, save_arrays

    key = hash_key({"shared": "key"})
    bad = 0
    for _ in range(rounds):
        save_arrays("race", key, payload(tag), cache_dir=cache_dir)
        got = load_arrays("race", key, cache_dir=cache_dir)
        if got is not None and not consistent(got):
            bad += 1
    return bad


def cached_writer(cache_dir: str, tag: int) -> float:
    """``cached_arrays`` on a shared key whose computation is slow enough for the two processes to overlap."""
    import time

    from vaxis.runs.cache import cached_arrays

    def compute():
        time.sleep(0.2)
        return payload(tag)

    return float(cached_arrays("race2", {"shared": "key"}, compute, cache_dir=cache_dir)["a"][0])


def results_writer(results_dir: str, tag: int, rounds: int) -> int:
    from vaxis.publish.results import read_results, write_results

    bad = 0
    for i in range(rounds):
        write_results("09_race", {"tag": tag, "values": [tag] * 500, "scoreboard": []}, results_dir)
        doc = read_results("09_race", results_dir)
        if doc["values"] != [doc["tag"]] * 500:
            bad += 1
    return bad
