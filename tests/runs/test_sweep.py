"""Sweeps: grid expansion and ids, the atomic result store, resume after SIGKILL, failures, Ray = local."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vaxis import cli
from vaxis.runs.cache import hash_key
from vaxis.runs.sweep import Grid, ResultStore, demo_job, run

STABLE = ["id", "status", "alpha", "n", "seed", "r2", "w_err", "error", "attempts"]


def _grid(**kw) -> Grid:
    spec = dict(axes={"seed": [0, 1, 2], "alpha": [0.1, 10.0]}, fixed={"n": 60, "d": 5})
    spec.update(kw)
    return Grid(**spec)


def _stable(table: pd.DataFrame) -> pd.DataFrame:
    return table[[c for c in STABLE if c in table.columns]].reset_index(drop=True)


def test_grid_expands_excludes_and_hashes():
    g = _grid(exclude=[{"seed": 0, "alpha": [0.1, 10.0]}], where="not (seed == 2 and alpha > 1)")
    jobs = g.jobs()
    assert [(j.config["seed"], j.config["alpha"]) for j in jobs] == [(1, 0.1), (1, 10.0), (2, 0.1)]
    assert jobs[0].id == hash_key({"fn": "vaxis.runs.sweep:demo_job",
                                   "config": {"n": 60, "d": 5, "seed": 1, "alpha": 0.1}})
    assert len({j.id for j in jobs}) == 3
    # the id ignores key order and resources, and depends on the function
    assert Grid(axes={"alpha": [0.1], "seed": [1]}, fixed={"d": 5, "n": 60}).jobs()[0].id == jobs[0].id
    assert _grid(resources={"num_cpus": 2, "num_gpus": 0.5}).jobs()[3].id == _grid().jobs()[3].id
    assert _grid(fn="vaxis.runs.sweep:other").jobs()[0].id != _grid().jobs()[0].id
    assert len(_grid(where=lambda c: c["seed"] == 0)) == 2
    with pytest.raises(ValueError):
        Grid(axes={"seed": [0]}, fixed={"seed": 1})
    with pytest.raises(ValueError):
        Grid.from_dict({"axes": {"seed": [0]}, "axis": {}})


def test_resource_rules_and_yaml(tmp_path):
    (tmp_path / "g.yaml").write_text(
        "fn: vaxis.runs.sweep:demo_job\naxes:\n  arch: [mlp, eegnet]\n  seed: [0, 1]\nfixed: {n: 50}\n"
        "resource_rules:\n  - match: {arch: eegnet}\n    num_gpus: 0.25\n")
    g = Grid.from_yaml(tmp_path / "g.yaml")
    assert g.name == "g" and len(g) == 4
    gpus = {(j.config["arch"], j.config["seed"]): j.resources["num_gpus"] for j in g.jobs()}
    assert gpus == {("mlp", 0): 0, ("mlp", 1): 0, ("eegnet", 0): 0.25, ("eegnet", 1): 0.25}


def test_ids_stable_across_processes():
    code = "from vaxis.runs.sweep import Grid; print(' '.join(j.id for j in Grid(axes={'seed': [0, 1, 2], " \
           "'alpha': [0.1, 10.0]}, fixed={'n': 60, 'd': 5}).jobs()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "123"}).stdout.split()
    assert out == [j.id for j in _grid().jobs()]


def test_demo_job_matches_augmented_least_squares_ridge():
    from scipy.linalg import lstsq

    cfg = {"seed": 4, "n": 80, "d": 6, "alpha": 3.0}
    rng = np.random.default_rng(4)
    w = rng.normal(size=6)
    X = rng.normal(size=(160, 6))
    y = X @ w + 0.5 * rng.normal(size=160)
    idx = rng.integers(0, 80, size=80)
    # ridge = least squares on [X; sqrt(alpha) I] vs [y; 0]
    coef = lstsq(np.vstack([X[idx], np.sqrt(3.0) * np.eye(6)]), np.r_[y[idx], np.zeros(6)])[0]
    resid, centred = y[80:] - X[80:] @ coef, y[80:] - y[80:].mean()
    out = demo_job(cfg)
    assert out["r2"] == pytest.approx(1 - resid @ resid / (centred @ centred), rel=1e-9)
    assert out["w_err"] == pytest.approx(np.linalg.norm(coef - w), rel=1e-9)
    assert demo_job(cfg) == out
    with pytest.raises(ValueError):
        demo_job({"seed": 2, "fail_seeds": [2]})


def test_failures_recorded_sweep_goes_on_and_rerun_is_noop(tmp_path):
    g = _grid(fixed={"n": 60, "d": 5, "fail_seeds": [1]})
    s = run(g, tmp_path / "st", executor="inline", progress=False)
    assert (s.total, s.ran, s.ok, len(s.failures)) == (6, 6, 4, 2)
    assert all("demo_job failure requested (seed=1)" in f["error"] for f in s.failures)
    failed = ResultStore(tmp_path / "st").failed()
    assert len(failed) == 2 and all("Traceback" in r["traceback"] and r["attempts"] == 1 for r in failed)
    again = run(g, tmp_path / "st", executor="inline", progress=False)
    assert (again.ran, again.skipped) == (0, 6)
    retry = run(g, tmp_path / "st", executor="inline", progress=False, retry_failed=True)
    assert retry.ran == 2 and all(r["attempts"] == 2 for r in ResultStore(tmp_path / "st").failed())
    table = s.store.table(g)
    assert list(table["seed"]) == [0, 0, 1, 1, 2, 2] and list(table["status"]).count("failed") == 2
    ok = table[table.status == "ok"].iloc[0]
    assert ok["r2"] == pytest.approx(demo_job({"n": 60, "d": 5, "seed": 0, "alpha": 0.1})["r2"])


def test_corrupt_record_is_missing_reported_and_rewritten(tmp_path):
    g = _grid()
    store = ResultStore(tmp_path / "st")
    run(g, store, executor="inline", progress=False)
    victim = g.jobs()[2].id
    good = store.path(victim).read_bytes()
    store.path(victim).write_bytes(good[: len(good) // 2])  # a torn write
    (tmp_path / "st" / f".{victim}.json.abc.tmp").write_bytes(b"{")  # a killed atomic write
    fresh = ResultStore(tmp_path / "st")
    assert victim not in fresh.done_ids() and victim in fresh.problems and len(fresh.done_ids()) == 5
    s = run(g, fresh, executor="inline", progress=False)
    assert s.ran == 1 and victim in s.problems
    assert json.loads(store.path(victim).read_bytes())["result"] == json.loads(good)["result"]


def test_local_executor_matches_inline(tmp_path):
    g = _grid(fixed={"n": 60, "d": 5, "fail_seeds": [2]})
    a = run(g, tmp_path / "a", executor="inline", progress=False)
    b = run(g, tmp_path / "b", executor="local", max_workers=2, progress=False)
    assert (b.ok, len(b.failures)) == (4, 2)
    pd.testing.assert_frame_equal(_stable(a.store.table(g)), _stable(b.store.table(g)))
    pids = {r["pid"] for r in b.store.records().values()}
    assert os.getpid() not in pids


def _sweep_cmd(grid_yaml: Path, store: Path) -> list[str]:
    return [sys.executable, "-m", "vaxis.runs.sweep", "run", str(grid_yaml), "--store", str(store),
            "--max-workers", "2", "--no-progress"]


def test_sigkill_midway_resumes_to_same_results(tmp_path):
    grid_yaml = tmp_path / "grid.yaml"
    grid_yaml.write_text("fn: vaxis.runs.sweep:demo_job\naxes:\n  seed: [0, 1, 2, 3, 4, 5, 6, 7]\n"
                         "  alpha: [0.1, 10.0]\nfixed: {n: 60, d: 5, sleep: 0.15}\n")
    g, store = Grid.from_yaml(grid_yaml), ResultStore(tmp_path / "killed")
    proc = subprocess.Popen(_sweep_cmd(grid_yaml, store.root), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(store.done_ids()) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its worker processes
    proc.wait()
    n_before = len(store.done_ids())
    assert 3 <= n_before < len(g), "the sweep was not killed mid-way"
    # nothing partial is visible: every *.json the store lists parses into a complete record
    for path in store.root.glob("*.json"):
        assert json.loads(path.read_bytes())["status"] == "ok"
    assert not ResultStore(store.root).problems
    resumed = run(g, store, executor="local", max_workers=2, progress=False)
    assert resumed.skipped == n_before and resumed.ran == len(g) - n_before and not resumed.failures
    full = run(g, tmp_path / "full", executor="local", max_workers=2, progress=False)
    pd.testing.assert_frame_equal(_stable(store.table(g)), _stable(full.store.table(g)))
    assert run(g, store, executor="local", progress=False).ran == 0


def test_cli_run_status_collect(tmp_path, capsys):
    grid_yaml = tmp_path / "g.yaml"
    grid_yaml.write_text("axes:\n  seed: [0, 1]\nfixed: {n: 40, d: 3, fail_seeds: [1]}\n")
    st = str(tmp_path / "st")
    assert cli.main(["sweep", "run", str(grid_yaml), "--executor", "inline", "--store", st, "--no-progress"]) == 1
    assert "1 ok, 1 failed" in capsys.readouterr().out
    assert cli.main(["sweep", "status", "--store", st, "--grid", str(grid_yaml)]) == 0
    out = capsys.readouterr().out
    assert "1 ok, 1 failed, 0 corrupt, 0 of 2 remaining" in out and "FAILED" in out
    assert cli.main(["sweep", "collect", "--store", st, "--out", str(tmp_path / "t.csv")]) == 0
    t = pd.read_csv(tmp_path / "t.csv")
    assert sorted(t["status"]) == ["failed", "ok"]
    assert t.loc[t.status == "ok", "r2"].iloc[0] == pytest.approx(demo_job({"n": 40, "d": 3, "seed": 0})["r2"])


def test_ray_executor_matches_local(tmp_path):
    ray = pytest.importorskip("ray", reason="ray==2.60.0 is pinned in requirements.txt but not installed")
    g = _grid(fixed={"n": 60, "d": 5, "fail_seeds": [2]}, resources={"num_cpus": 1, "num_gpus": 0})
    local = run(g, tmp_path / "local", executor="local", max_workers=2, progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = run(g, tmp_path / "ray", executor="ray", progress=False)
    finally:
        ray.shutdown()
    assert (remote.ok, len(remote.failures)) == (4, 2)
    pd.testing.assert_frame_equal(_stable(local.store.table(g)), _stable(remote.store.table(g)))
    a, b = local.store.records(), remote.store.records()
    assert set(a) == set(b) and all(set(a[i]) == set(b[i]) for i in a)  # same record format


def crash_on_seed_1(config: dict) -> dict:
    """A job whose worker process is SIGKILLed (seed 1, or the seeds in ``crash_seeds``), e.g. by the OOM killer."""
    if config["seed"] in config.get("crash_seeds", [1]):
        os.kill(os.getpid(), signal.SIGKILL)
    return demo_job(config)


@pytest.mark.parametrize("crash", [[1], [1, 2]])
def test_worker_sigkilled_fails_only_its_job(tmp_path, crash):
    """Every killed job, and only it, is recorded as failed, whatever else was in flight when its worker died."""
    g = Grid(axes={"seed": [0, 1, 2, 3, 4]}, fixed={"n": 40, "d": 3, "crash_seeds": crash},
             fn=f"{__name__}:crash_on_seed_1")
    s = run(g, tmp_path / "st", executor="local", max_workers=2, progress=False)
    assert s.ok == 5 - len(crash) and sorted(f["config"]["seed"] for f in s.failures) == crash
    assert all("BrokenProcessPool" in f["error"] for f in s.failures)
    t = s.store.table(g)
    assert list(t["status"]) == ["failed" if i in crash else "ok" for i in range(5)]
    assert t["r2"].iloc[4] == pytest.approx(demo_job({"n": 40, "d": 3, "seed": 4})["r2"])


def test_run_checked_prints_returns_the_table_and_raises_on_failures(tmp_path, capsys):
    from vaxis.runs.sweep import SweepFailed, run_checked

    summary, table = run_checked(_grid(), tmp_path / "ok", executor="inline", quick=True)
    out = capsys.readouterr().out
    assert "6 jobs (3 seed x 2 alpha), executor inline" in out and str(summary) in out
    assert len(table) == 6 and (table.status == "ok").all()
    with pytest.raises(SweepFailed, match="2 of 6 jobs"):
        run_checked(_grid(fixed={"n": 60, "d": 5, "fail_seeds": [1]}), tmp_path / "bad", quick=True)


def test_check_data_key():
    from vaxis.runs.sweep import check_data_key, data_fingerprint

    a = np.arange(6.0)
    check_data_key({}, a)                                              # no key: nothing to check
    check_data_key({"data_key": data_fingerprint(a)}, a)
    check_data_key({"data_key": "abc"}, fingerprint="abc")
    with pytest.raises(ValueError, match="differ from the driver"):
        check_data_key({"data_key": data_fingerprint(a), "data_dir": "/d"}, a + 1)
