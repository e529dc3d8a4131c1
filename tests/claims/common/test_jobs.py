"""Chapters' training as sweep jobs: one-fold jobs equal the fold of the full run, resume, executors, failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from vaxis.claims.ensemble import combine as E
from vaxis.claims.ensemble import pool as P
from vaxis.claims.ensemble.jobs import EnsembleJob, collect
from vaxis.decoding.folds import FoldDesign
from vaxis.decoding.stacking import StackConfig
from vaxis.runs.jobs import frame_from_jobs, job_grid
from vaxis.runs.sweep import Grid, ResultStore, SweepFailed, checked_table, run

STACK = {"epochs": 2, "steps_per_epoch": 3, "batch_size": 64, "lr": 1e-3, "patience": 3, "max_val": 200}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Single-threaded torch (small shared machines; the local executor's workers use one thread too)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def faced6(tmp_path_factory):
    """A 6-subject synthetic FACED cohort (DE only) and chapter 8's job for it."""
    from vaxis.eeg.datasets import load_faced
    from vaxis.eeg.synthetic import make_faced

    root = tmp_path_factory.mktemp("faced6")
    make_faced(root, n_subjects=6, seed=0, kinds=("de",))
    eeg = load_faced(root, kind="de")
    job = EnsembleJob.for_cohort(eeg, task="binary", design=FoldDesign(n_folds=3, val_fraction=0.25),
                                 archs=["mlp", "linear"], main_seeds=2, pool_seeds=2, n_bag=2, n_aug=2, n_decor=2,
                                 ensemble_size=2, stack=StackConfig(**STACK), device="cpu")
    return job


def _grid(job: EnsembleJob, folds=(0, 1, 2), tasks=("binary",)) -> Grid:
    return job_grid(job, {"task": list(tasks), "fold": list(folds)},
                    name="ch8-test")


@pytest.fixture(scope="module")
def full_run(faced6):
    """Chapter 8 without the sweep layer: every fold in one train_pool call, then ensemble_table."""
    view, manifest = faced6.view_and_manifest()
    pool = P.train_pool(view, manifest, archs=("mlp", "linear"), n_seeds=2, main_seeds=2, n_bag=2, n_aug=2,
                        n_decor=2, config=StackConfig(**STACK), seed=0, device="cpu")
    return pool, E.ensemble_table(pool, 2, seed=0)


@pytest.fixture(scope="module")
def swept(faced6, tmp_path_factory):
    """The same folds as inline sweep jobs."""
    g = _grid(faced6)
    summary = run(g, tmp_path_factory.mktemp("store") / "ch8", executor="inline", progress=False)
    return g, summary


def _num(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["recall", "members", "subject_ba"], errors="ignore").reset_index(drop=True)


def test_one_fold_pool_equals_that_fold_of_the_full_pool(faced6, full_run):
    """train_pool(folds=[f]) replays every other fold's draws: same members, same outputs (float tolerance)."""
    full, _ = full_run
    view, manifest = faced6.view_and_manifest()
    for f in (0, 2):
        one = P.train_pool(view, manifest, archs=("mlp", "linear"), n_seeds=2, main_seeds=2, n_bag=2, n_aug=2,
                           n_decor=2, config=StackConfig(**STACK), seed=0, device="cpu", folds=[f])
        assert list(one.logp_test) == [f]
        np.testing.assert_allclose(one.logp_test[f], full.logp_test[f], atol=1e-5)
        np.testing.assert_allclose(one.logp_val[f], full.logp_val[f], atol=1e-5)
        np.testing.assert_allclose(one.D[f], full.D[f], atol=1e-4)
        same_fold = full.members[full.members.fold == f].reset_index(drop=True)
        pd.testing.assert_frame_equal(one.members.drop(columns="val_ba"), same_fold.drop(columns="val_ba"))
        np.testing.assert_allclose(one.members.val_ba, same_fold.val_ba, atol=1e-9)
    with pytest.raises(ValueError, match="subset"):
        P.train_pool(view, manifest, folds=[3])


def test_fold_jobs_reproduce_the_full_table(full_run, swept):
    _, table = full_run
    g, summary = swept
    assert (summary.total, summary.ran, summary.ok) == (3, 3, 3)
    jobs = checked_table(summary, g)
    got = frame_from_jobs(jobs)
    assert list(got.columns) == list(table.columns) and len(got) == len(table)
    pd.testing.assert_frame_equal(_num(got), _num(table), check_exact=False, atol=1e-6)
    assert list(got.members) == [list(m) for m in table.members]
    np.testing.assert_allclose(np.concatenate(got.subject_ba.to_list()), np.concatenate(table.subject_ba.to_list()),
                               atol=1e-9)
    members = frame_from_jobs(jobs, "members")
    assert len(members) == 3 * (2 * 4 + 2) and list(members.columns)[:2] == ["member", "fold"]
    tabs = collect(jobs)
    assert set(tabs) == {"binary"} and tabs["binary"].cluster.nunique() == 3


def test_second_run_executes_nothing_and_returns_the_same_table(swept):
    g, first = swept
    again = run(g, first.store.root, executor="inline", progress=False)
    assert (again.total, again.skipped, again.ran) == (3, 3, 0)
    pd.testing.assert_frame_equal(checked_table(again, g), first.store.table(g))


def test_changed_parameter_starts_new_jobs(faced6, swept):
    import dataclasses

    g, first = swept
    changed = _grid(dataclasses.replace(faced6, stack=StackConfig(**{**STACK, "epochs": 3})))
    assert not {j.id for j in changed.jobs()} & first.store.done_ids()


def test_local_executor_gives_the_inline_rows(faced6, swept, tmp_path):
    g, first = swept
    small = _grid(faced6, folds=(0, 2))
    local = run(small, tmp_path / "local", executor="local", max_workers=2, progress=False)
    assert local.ok == 2 and {r["pid"] for r in local.store.records().values()} - {os.getpid()}
    a = frame_from_jobs(checked_table(local, small))
    b = frame_from_jobs(first.store.table(small))
    pd.testing.assert_frame_equal(_num(a), _num(b), check_exact=False, atol=1e-6)


def test_sweep_killed_midway_resumes_without_redoing_finished_jobs(faced6, swept, tmp_path):
    import yaml

    g, first = swept
    spec = {"name": g.name, "fn": g.fn, "axes": g.axes, "fixed": g.fixed}
    (tmp_path / "g.yaml").write_text(yaml.safe_dump(spec))
    assert [j.id for j in Grid.from_yaml(tmp_path / "g.yaml").jobs()] == [j.id for j in g.jobs()]
    store = ResultStore(tmp_path / "killed")
    proc = subprocess.Popen([sys.executable, "-m", "vaxis.runs.sweep", "run", str(tmp_path / "g.yaml"), "--store",
                             str(store.root), "--executor", "inline", "--no-progress"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not store.done_ids() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = store.done_ids()
    assert 1 <= len(done) < 3, "the sweep was not killed mid-way"
    stamps = {i: store.path(i).stat().st_mtime_ns for i in done}
    resumed = run(g, store, executor="inline", progress=False)
    assert resumed.skipped == len(done) and resumed.ran == 3 - len(done) and not resumed.failures
    assert all(store.path(i).stat().st_mtime_ns == t for i, t in stamps.items())   # finished jobs not redone
    a, b = frame_from_jobs(checked_table(resumed, g)), frame_from_jobs(first.store.table(g))
    pd.testing.assert_frame_equal(_num(a), _num(b), check_exact=False, atol=1e-6)


def test_failed_job_is_reported_with_its_error_and_traceback(faced6, tmp_path):
    import dataclasses

    g = _grid(faced6, folds=(7,))           # only 3 folds: train_pool refuses fold 7
    summary = run(g, tmp_path / "st", executor="inline", progress=False)
    assert summary.failures
    with pytest.raises(SweepFailed) as err:
        checked_table(summary, g)
    msg = str(err.value)
    assert "1 of 1 jobs" in msg and "'fold': 7" in msg and ("IndexError" in msg or "ValueError" in msg)
    assert err.value.failed[0]["config"]["fold"] == 7
    bad = _grid(dataclasses.replace(faced6, data_key="0" * 16), folds=(0,))
    with pytest.raises(SweepFailed, match="differ from the driver"):
        checked_table(run(bad, tmp_path / "st2", executor="inline", progress=False), bad)


# --------------------------------------------------------------------------------------------- chapter 6
CH6_STRATEGIES = ["kd_t1", "rsa_geometry", "v_mse", "topo_smooth"]


@pytest.fixture(scope="module")
def ch6(faced6):
    """Chapter 6's job on the 6-subject cohort, with LLM-free targets (positions + 16-d embeddings)."""
    from vaxis.claims.alignment.jobs import AlignmentJob
    from vaxis.claims.common.strategies import AlignmentTargets

    rng = np.random.default_rng(0)
    targets = AlignmentTargets(np.array([-1.0, -0.8, -0.9, -0.7, 0.0, 0.8, 0.6, 1.0, 0.9]), rng.normal(size=(9, 16)))
    job = AlignmentJob(data_dir=faced6.data_dir, data_key=faced6.data_key, design=FoldDesign(n_folds=3),
                       strategies=CH6_STRATEGIES, seeds=[0, 1], hidden=8, device="cpu",
                       stack=StackConfig(epochs=3, patience=2, batch_size=32, lr=3e-3),
                       targets={"positions": targets.positions.tolist(), "embeddings": targets.embeddings.tolist()})
    return targets, job


def test_ch6_fold_jobs_reproduce_the_full_run(ch6, tmp_path):
    """train_alignment + run_controls over all folds == the fold jobs reassembled (tables in the same order)."""
    import vaxis.claims.alignment.controls as ac
    import vaxis.claims.alignment.jobs as aj
    import vaxis.claims.alignment.train as at
    import vaxis.claims.common.conditions as cc
    from vaxis.decoding.folds import make_manifest

    targets, job = ch6
    eeg = job.load()
    manifest = make_manifest(eeg.subject_ids, "kfold", k=3, val_fraction=0.1)
    vmaps = dict(enumerate(cc.fold_vmaps(eeg, manifest, targets.positions)))
    full = at.train_alignment(cc.clip_arrays(eeg), targets, strategies=CH6_STRATEGIES, arch="mlp", seeds=[0, 1],
                              design=FoldDesign(n_folds=3), stack=job.stack, hidden=8, vmaps=vmaps, device="cpu")
    full_ctrl = ac.run_controls(full, targets, controls=("shuffled", "uniform"), strategies=["kd_t1"])
    g = job_grid(job, {"fold": [0, 1, 2]}, name="ch6-test")
    summary = run(g, tmp_path / "ch6", executor="inline", progress=False)
    got, forced, ctrl = aj.collect(checked_table(summary, g))
    key = ["strategy", "weight", "seed", "fold"]
    for a, b in ((got.final, full.final), (got.trained, full.trained.drop(columns=["subject_ba"])),
                 (ctrl.drop(columns=["subject_ba"]), full_ctrl.drop(columns=["subject_ba"]))):
        a = a.sort_values(key, ignore_index=True, kind="mergesort")
        b = b.sort_values(key, ignore_index=True, kind="mergesort")
        assert list(a.columns) == list(b.columns) and len(a) == len(b)
        pd.testing.assert_frame_equal(a.drop(columns=["subject_ba"], errors="ignore"),
                                      b.drop(columns=["subject_ba"], errors="ignore"), check_exact=False, atol=1e-9)
    pd.testing.assert_frame_equal(got.chosen.sort_values(["strategy", "fold"], ignore_index=True),
                                  full.chosen.sort_values(["strategy", "fold"], ignore_index=True))
    assert got.manifest == full.manifest and got.seconds["n_models"] == full.seconds["n_models"]
    assert run(g, tmp_path / "ch6", executor="inline", progress=False).ran == 0
    with pytest.raises(ValueError, match="subset"):
        at.train_alignment(cc.clip_arrays(eeg), targets, strategies=["kd_t1"], design=FoldDesign(n_folds=3), folds=[5])


def test_fixed_protocol_reaches_the_fold_job(faced6, tmp_path):
    """``protocol="fixed"`` + ``splits`` give one fold job that trains and tests on exactly those subjects."""
    import dataclasses

    view, _ = faced6.view_and_manifest()
    subs = list(view.subject_ids)
    splits = {"train": subs[:3], "val": subs[3:4], "test": subs[4:]}
    fixed = dataclasses.replace(faced6, design=FoldDesign(protocol="fixed", splits=splits, val_fraction=0.25))
    _, man = fixed.view_and_manifest()
    assert len(man) == 1 and man[0]["test"] == sorted(subs[4:]) and man[0]["val"] == sorted(subs[3:4])
    g = job_grid(fixed, {"fold": [0], "replicate": [0, 1]})
    summary = run(g, tmp_path / "fixed", executor="inline", progress=False)
    assert summary.ok == 2
    tab = checked_table(summary, g)
    assert all(m["test"] == sorted(subs[4:]) for m in tab.fold_manifest)
    assert collect(tab)["binary"].cluster.nunique() == 2          # the replicates are the clusters


# --------------------------------------------------------------------------------------------- chapter 7
def test_ch7_fold_jobs_reproduce_the_all_folds_call(ch6, tmp_path):
    """train_conditions over all folds (one stack, one recorder with the control) + the chapter's per-model
    measures == the fold jobs reassembled; a rerun trains nothing; a wrong data key fails."""
    import dataclasses

    import vaxis.claims.common.conditions as at
    import vaxis.claims.saturation.measures as sat
    from vaxis.claims.saturation.criteria import centroid_v_gain
    from vaxis.claims.saturation.jobs import SaturationJob
    from vaxis.claims.saturation.jobs import collect as collect7
    from vaxis.decoding.folds import make_manifest
    from vaxis.decoding.training_data import prepare

    targets, job6 = ch6
    eeg = job6.load()
    view = prepare(at.clip_arrays(eeg), task="9class", input="window", normalisation="train-only")
    manifest = make_manifest(view.subject_ids, "kfold", k=3, val_fraction=0.1)
    weights = {"kd_t1": 0.3, "rsa_geometry": 1.0, "v_mse": 0.3, "topo_smooth": 0.1}
    folds = [0, 1, 2]
    rows = pd.DataFrame([("label-only", 0.0, s, f) for s in (0, 1) for f in folds]
                        + [(n, weights[n], s, f) for n in CH6_STRATEGIES for s in (0, 1) for f in folds],
                        columns=["strategy", "weight", "seed", "fold"])
    cfg = StackConfig(epochs=4, batch_size=32, lr=3e-3, patience=1)
    scores, state = at.train_conditions(view, manifest, "mlp", rows, targets,
                                        dict(enumerate(at.fold_vmaps(eeg, manifest, targets.positions))), cfg,
                                        hidden=8, device="cpu")
    reps, _ = sat.unit_reps(state, view, rows)
    lo = rows.index[rows.strategy == "label-only"]
    test_idx = {f: [view.subject_ids.index(s) for s in manifest[f]["test"]] for f in set(rows.fold)}
    cv = {(rows.seed[m], rows.fold[m]): centroid_v_gain(reps[m], view.category, view.groups, test_idx[rows.fold[m]],
                                                        targets.positions, 20, seed=int(rows.seed[m])) for m in lo}
    job = SaturationJob(data_dir=job6.data_dir, data_key=job6.data_key, design=FoldDesign(n_folds=3),
                        strategies=CH6_STRATEGIES, weights=weights, seeds=[0, 1], hidden=8,
                        stack=StackConfig(epochs=4, patience=1, batch_size=32, lr=3e-3),
                        record_every=2, targets=job6.targets, n_perm=20, device="cpu")
    g = job_grid(job, {"fold": folds}, name="ch7-test")
    summary = run(g, tmp_path / "ch7", executor="inline", progress=False)
    got = collect7(checked_table(summary, g), CH6_STRATEGIES)
    assert got["d"] == state["d"] and [m["fold"] for m in got["manifest"]] == folds
    key = ["strategy", "seed", "fold"]
    pd.testing.assert_frame_equal(got["scores"].sort_values(key, ignore_index=True),
                                  scores.drop(columns=["subject_ba"]).sort_values(key, ignore_index=True),
                                  check_exact=False, atol=1e-9)
    for r in got["label_only"].itertuples():
        assert r.centroid_v_gain == pytest.approx(cv[(r.seed, r.fold)], abs=1e-9)
    assert [c["name"] for c in got["criteria"]] == ["basin_saturated", "residual_starved", "v_carries_accuracy",
                                                    "supervision_does_not_pay", "residual_load_bearing"]
    per_subject = {(r.strategy, r.seed, r.fold, t): b for r in scores.itertuples()
                   for t, b in zip(manifest[r.fold]["test"], r.subject_ba)}
    assert len(got["subject_scores"]) == len(per_subject)
    for r in got["subject_scores"].itertuples():      # the per-subject BAs the clustered criteria use
        assert r.ba == pytest.approx(per_subject[(r.strategy, r.seed, r.fold, r.subject)], abs=1e-9)
    assert {"alignment", "control", "ce"} <= set(got["gradients"].kind)
    assert run(g, tmp_path / "ch7", executor="inline", progress=False).ran == 0
    bad = job_grid(dataclasses.replace(job, data_key="0" * 16), {"fold": [0]})
    with pytest.raises(SweepFailed, match="differ from the driver"):
        checked_table(run(bad, tmp_path / "bad", executor="inline", progress=False), bad)




# --------------------------------------------------------------------------------------------- chapter 5
CH5_EVAL = {"task": "9class", "normalisation": "per-subject", "epochs": 3, "lr": 3e-3, "patience": 2,
            "steps_per_epoch": 3, "batch_size": 64, "hidden": 8, "max_val": 100}


def test_evaluate_one_fold_equals_that_fold_of_the_full_stack(faced6):
    """evaluate(folds=[f]) replays the full stack's validation subsample (max_val small enough to subsample):
    same rows, same weights as fold f of the all-folds call."""
    from vaxis.decoding.stacking import subsample_indices
    from vaxis.decoding.training import evaluate
    from vaxis.eeg.datasets import load_faced

    eeg = load_faced(faced6.data_dir, kind="de")
    kw = {**CH5_EVAL, "seeds": [0, 1], "k": 3, "device": "cpu", "progress": False}
    full_df, full = evaluate("mlp", eeg, **kw)
    one_df, one = evaluate("mlp", eeg, folds=[2], **kw)
    assert one.manifest == full.manifest and sorted(one.index.fold.unique()) == [2]
    pd.testing.assert_frame_equal(one_df, full_df[full_df.fold == 2].reset_index(drop=True), check_exact=False,
                                  atol=1e-6)
    on = full.index.fold.to_numpy() == 2            # the validation losses see the subsample itself
    np.testing.assert_allclose(one.history["val_loss"], full.history["val_loss"][on], atol=1e-6)
    for s in (0, 1):
        a, b = one.model(s, 2).state_dict(), full.model(s, 2).state_dict()
        for k in a:
            np.testing.assert_allclose(a[k].numpy(), b[k].numpy(), atol=1e-6)
    # the replay matters: fold 2's subsample drawn on its own (its model first in the stack) is another one
    val = np.flatnonzero(np.isin(full.view.groups, [full.view.subject_ids.index(s) for s in full.manifest[2]["val"]]))
    assert len(val) > CH5_EVAL["max_val"]
    own = subsample_indices([val], CH5_EVAL["max_val"], 2 + 7)[0]
    replayed = subsample_indices([val] * 6, CH5_EVAL["max_val"], 7)[2]
    assert not np.array_equal(own, replayed)
    with pytest.raises(ValueError, match="subset"):
        evaluate("mlp", eeg, folds=[3], **kw)


def test_ch5_fold_jobs_reproduce_evaluate_and_probes(faced6, tmp_path):
    """Chapter 5 without the sweep layer (one evaluate per arch on the piped cohort, score_model per seed x fold,
    sums over models) == the arch x fold jobs reassembled by rediscovery.collect; a cohort cut travels as
    ``subjects``; a rerun trains nothing; a wrong data key fails the job."""
    from vaxis.claims.rediscovery import jobs as R
    from vaxis.claims.rediscovery import nulls as N
    from vaxis.decoding.training import evaluate
    from vaxis.eeg.datasets import load_faced
    from vaxis.eeg.pipeline import apply_pipeline
    from vaxis.stats import random_permutations

    subjects = [f"sub{i:03d}" for i in (5, 0, 1, 2, 3)]          # a cut (and reordered) cohort
    raw = load_faced(faced6.data_dir, kind="de").subset(subjects)
    eeg = apply_pipeline(raw)
    pos = np.linspace(-1, 1, 9)[[3, 0, 8, 1, 4, 6, 2, 7, 5]]
    rdm = np.abs(pos[:, None] - pos[None])
    seeds, n_perm, archs = [0, 1], 20, ["linear", "mlp"]
    train = {k: v for k, v in CH5_EVAL.items() if k not in ("task", "normalisation")}
    maps, index = N.build_maps(pos, n_perm, 0)
    rsa_perms = np.vstack([np.arange(9), random_permutations(n_perm, 9, 1, identity="allowed")])
    acc, ridge_sum, rsa_sum = [], np.zeros(maps.shape[1]), np.zeros(n_perm + 1)
    for arch in archs:
        kw = {**train, **({"hidden": 6} if arch == "mlp" else {})}
        df, r = evaluate(arch, eeg, protocol="kfold", seeds=seeds, k=3, device="cpu", progress=False,
                         normalisation="none", threads=1, **kw)
        acc.append(df)
        for s in seeds:
            for f in r.manifest:
                u = r.unit_representations(s, f["fold"], every=3)
                test_idx = [eeg.subject_ids.index(t) for t in f["test"]]
                out = R.score_model(u["rep"], u["category"], u["subject"], test_idx, maps, index, rdm, rsa_perms)
                ridge_sum += out["ridge"]
                rsa_sum += out["rsa"]
    acc = pd.concat(acc, ignore_index=True)
    job = R.RediscoveryJob.for_cohort(raw, cache_dir=None, cut=True, seeds=seeds, design=FoldDesign(n_folds=3),
                                      device="cpu", train=train,
                                      arch_settings={"mlp": {"hidden": 6}}, positions=pos.tolist(),
                                      llm_rdm=rdm.tolist(), n_perm=n_perm, rep_every=3)
    from vaxis.runs.jobs import job_grid

    g = job_grid(job, {"arch": archs, "folds": [[2], [0, 1]]}, name="ch5-test")
    summary = run(g, tmp_path / "ch5", executor="inline", progress=False)
    assert (summary.total, summary.ran, summary.ok) == (4, 4, 4)
    got = R.collect(checked_table(summary, g), archs, seeds, pos, n_perm)
    cols = [c for c in acc.columns if c != "best_epoch"]
    order = ["arch", "seed", "fold", "level"]
    pd.testing.assert_frame_equal(got["accuracy"][cols].sort_values(order, ignore_index=True),
                                  acc[cols].sort_values(order, ignore_index=True),
                                  check_exact=False, atol=1e-6)
    n_total = len(archs) * len(seeds) * 3
    ref = N.population_test(ridge_sum, n_total, index)
    for key in ("statistic", "null_mean", "p_unrestricted", "p_split_kept"):
        assert got["population"][key] == pytest.approx(ref[key], abs=1e-6), key
    assert got["rsa"]["mean"] == pytest.approx(rsa_sum[0] / n_total, abs=1e-6)
    again = run(g, tmp_path / "ch5", executor="inline", progress=False)
    assert (again.total, again.skipped, again.ran) == (4, 4, 0)
    bad = job_grid(R.RediscoveryJob(**{**job.config(), "data_key": "0" * 16}),
                   {"arch": ["linear"], "folds": [[0]]})
    with pytest.raises(SweepFailed, match="differ from the driver"):
        checked_table(run(bad, tmp_path / "bad", executor="inline", progress=False), bad)
