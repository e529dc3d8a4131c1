"""Residual-diversity ensembles: diversity measure, selection, combination, stacker hygiene, SEED-V path."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.linalg import subspace_angles

from vaxis.claims.ensemble import combine as E
from vaxis.claims.ensemble import pool as EP
from vaxis.decoding.folds import FoldDesign
from vaxis.decoding.stacking import StackConfig


def _known_subspaces(n: int = 600, n_classes: int = 3, angles=(0.2, 0.7, 1.2), seed: int = 0):
    """Two orthonormal (n, k) bases in the complement of the class indicators with the given principal angles."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    onehot = np.eye(n_classes)[y]
    k = len(angles)
    Z = rng.standard_normal((n, 2 * k))
    Z -= onehot @ np.linalg.lstsq(onehot, Z, rcond=None)[0]            # orthogonal to every class indicator
    Q = np.linalg.qr(Z)[0]
    qa = Q[:, :k]
    qb = Q[:, :k] * np.cos(angles) + Q[:, k:] * np.sin(angles)
    return y, onehot, qa, qb


def _embed(q, onehot, d, seed):
    """A representation of width ``d`` whose residual column space is span(q), plus class means."""
    rng = np.random.default_rng(seed)
    k = q.shape[1]
    A = rng.standard_normal((k, d))
    return onehot @ rng.standard_normal((onehot.shape[1], d)) * 3 + q @ np.diag(np.linspace(3, 1, k)) @ A


def test_diversity_recovers_known_principal_angles():
    angles = np.array([0.2, 0.7, 1.2])
    y, onehot, qa, qb = _known_subspaces(angles=angles)
    ra, rb = _embed(qa, onehot, 10, 1), _embed(qb, onehot, 24, 2)       # different representation widths
    ua, ub = EP.residual_basis(ra, y, k=3), EP.residual_basis(rb, y, k=3)
    got = EP.principal_angles(ua, ub)
    np.testing.assert_allclose(got, np.sort(angles), atol=1e-6)
    np.testing.assert_allclose(got, np.sort(subspace_angles(qa, qb)), atol=1e-6)   # scipy, independently
    d = EP.residual_distance(ra, rb, y, k=3)
    assert d == pytest.approx(1 - np.mean(np.cos(angles) ** 2), abs=1e-6)
    # invariant to a rotation + scaling of one member's own space; zero against itself
    rot = np.linalg.qr(np.random.default_rng(3).standard_normal((24, 24)))[0] * 5.0
    assert EP.residual_distance(ra, rb @ rot, y, k=3) == pytest.approx(d, abs=1e-6)
    assert EP.residual_distance(ra, ra * 2 + 1, y, k=3) == pytest.approx(0.0, abs=1e-9)
    D = EP.diversity_matrix([ra, rb, ra], y, k=3)
    assert D.shape == (3, 3) and np.allclose(D, D.T) and D[0, 2] == pytest.approx(0, abs=1e-9)


def test_greedy_selection_more_diverse_than_random():
    rng = np.random.default_rng(0)
    y, onehot, qa, _ = _known_subspaces(n=400, angles=(0.1, 0.1, 0.1))
    reps = [_embed(qa + 0.02 * rng.standard_normal(qa.shape), onehot, 8, s) for s in range(5)]   # near clones
    for s in range(3):                                                                            # distinct
        reps.append(_embed(np.linalg.qr(rng.standard_normal((400, 3)))[0], onehot, 8, 10 + s))
    D = EP.diversity_matrix(reps, y, k=3)
    chosen = E.greedy_select(D, 4, start=0)
    assert chosen[0] == 0 and len(set(chosen)) == 4 and {5, 6, 7} <= set(chosen)
    mean_div = lambda s: D[np.ix_(s, s)][np.triu_indices(len(s), 1)].mean()  # noqa: E731
    rand = [mean_div([0, *c]) for c in itertools.combinations(range(1, 8), 3)]
    assert mean_div(chosen) > np.mean(rand) and mean_div(chosen) >= max(rand) - 1e-12


def test_probabilities_sum_to_one():
    rng = np.random.default_rng(0)
    logps = np.log(rng.dirichlet(np.ones(5), size=(3, 200)))
    p = E.mean_probs(logps)
    np.testing.assert_allclose(p.sum(1), 1.0)
    np.testing.assert_allclose(p, np.exp(logps).mean(0))
    y = rng.integers(0, 4, 200)                                         # class 4 never seen in fit
    st = E.Stacker().fit(logps, y, np.repeat(["a", "b"], 100))
    q = st.predict_proba(logps, 5)
    np.testing.assert_allclose(q.sum(1), 1.0)
    assert np.all(q[:, 4] == 0)


def _toy_pool(seed: int = 0) -> EP.Pool:
    """A hand-made two-fold pool: no training, random member outputs, distinct val / test subjects."""
    rng = np.random.default_rng(seed)
    C, kinds = 3, ["seed", "seed", "seed", "bag", "bag", "aug", "aug", "decor", "decor"]
    rows, P = [], {k: {} for k in ("lv", "lt", "D", "yv", "yt", "sv", "st", "ut")}
    man = []
    for f in range(2):
        subs = [f"sub{i:03d}" for i in range(6)]
        test, val = subs[3 * f: 3 * f + 3][:2], [subs[3 * f + 2]]
        man.append({"fold": f, "train": sorted(set(subs) - set(test) - set(val)), "val": val, "test": test})
        for m, kind in enumerate(kinds):
            rows.append({"member": m, "fold": f, "kind": kind, "arch": "mlp", "rank": m % 2,
                         "val_ba": rng.uniform()})
        P["lv"][f] = np.log(rng.dirichlet(np.ones(C), size=(len(kinds), 60)))
        P["lt"][f] = np.log(rng.dirichlet(np.ones(C), size=(len(kinds), 120)))
        A = rng.uniform(size=(len(kinds),) * 2)
        P["D"][f] = np.triu(A, 1) + np.triu(A, 1).T
        P["yv"][f], P["yt"][f] = np.arange(60) % C, np.arange(120) % C
        P["sv"][f], P["st"][f] = np.repeat(val, 60), np.repeat(test, 60)
        P["ut"][f] = np.arange(120) // 10
    return EP.Pool(pd.DataFrame(rows), P["lv"], P["lt"], P["D"], P["yv"], P["yt"], P["sv"], P["st"], P["ut"],
                  man, C, "train-only", {"archs": ["mlp"]})


def test_stacker_never_sees_held_out_subjects(monkeypatch):
    pool = _toy_pool()
    seen, coefs = [], []
    orig = E.Stacker.fit

    def spy(self, logps, y, subjects):
        out = orig(self, logps, y, subjects)
        seen.append(set(self.subjects_seen_))
        coefs.append(self.model_[-1].coef_.copy())
        return out

    monkeypatch.setattr(E.Stacker, "fit", spy)
    df = E.ensemble_table(pool, 2)
    assert (df.combiner == "stacker").sum() == len(seen) > 0
    test_subs = {s for f in pool.manifest for s in f["test"]}
    val_subs = {s for f in pool.manifest for s in f["val"]}
    assert all(s <= val_subs and not (s & test_subs) for s in seen)
    # scrambling everything about the test subjects leaves every stacker fit unchanged
    first = [c.copy() for c in coefs]
    seen.clear(), coefs.clear()
    for f in pool.logp_test:
        pool.y_test[f] = np.random.default_rng(9).permutation(pool.y_test[f])
        pool.logp_test[f] = pool.logp_test[f][:, ::-1].copy()
    E.ensemble_table(pool, 2)
    for a, b in zip(first, coefs):
        np.testing.assert_array_equal(a, b)
    pool.subj_val[0] = pool.subj_test[0][:60]                          # a leak is refused outright
    with pytest.raises(AssertionError):
        E.ensemble_table(pool, 2)


def test_decorrelation_penalty_is_linear_cka():
    g = torch.Generator().manual_seed(0)
    rep = torch.randn(3, 64, 5, generator=g, dtype=torch.float64)
    rep[1] = rep[0] @ torch.randn(5, 5, generator=g, dtype=torch.float64)     # member 1: linear image of 0
    y = torch.arange(64).remainder(4).expand(3, 64)
    pen = EP.ResidualDecorrelation(np.array([0, 0, -1]), 4, weight=2.0)(rep, None, y, None, None)
    # independent linear CKA (Kornblith et al. 2019) on the within-class residuals, with centring matrices
    r = rep.numpy().copy()
    for c in range(4):
        r[:, y[0].numpy() == c] -= r[:, y[0].numpy() == c].mean(1, keepdims=True)
    H = np.eye(64) - 1 / 64
    K = [H @ ri @ ri.T @ H for ri in r]
    cka = np.sum(K[0] * K[1]) / np.sqrt(np.sum(K[0] * K[0]) * np.sum(K[1] * K[1]))
    np.testing.assert_allclose(pen.numpy(), [2 * cka, 2 * cka, 0.0], atol=1e-9)


def test_residual_mix_keeps_class_signal_and_swaps_residuals():
    rng = np.random.default_rng(0)
    groups = np.repeat([0, 1, 2], 20)
    y = np.tile(np.repeat([0, 1], 10), 3)
    X = torch.as_tensor(rng.standard_normal((60, 2, 3)) + groups[:, None, None] * 10 + y[:, None, None] * 100)
    xa, ya = EP.residual_mix(X, y, groups, np.arange(40), 50, seed=1)   # subjects 0 and 1 only
    Xn = X.numpy()
    mean = {(s, c): Xn[(groups == s) & (y == c)].mean(0) for s in (0, 1) for c in (0, 1)}
    for x, c in zip(xa.numpy(), ya):
        hits = [(s, j) for s in (0, 1) for j in np.flatnonzero((groups == 1 - s) & (y == c))
                if np.allclose(x, mean[(s, c)] + Xn[j] - mean[(1 - s, c)])]
        assert hits, "every row = own class mean + another training subject's residual"
    assert xa.numpy().max() < 200 and set(ya) <= {0, 1}                 # nothing from subject 2 (test)


def test_seedv_path_end_to_end(tmp_path):
    from vaxis.decoding.folds import make_manifest
    from vaxis.eeg.seedv import load_seedv
    from vaxis.eeg.synthetic import make_seedv

    make_seedv(tmp_path, n_subjects=4, seed=0, n_windows=(3, 4), class_amp=1.0)
    data = load_seedv(tmp_path)
    assert data.source == "synthetic"
    view = EP.seedv_view(data)
    assert view.n_classes == 5 and set(np.unique(view.y)) == set(range(5)) and view.X.shape[1:] == (62, 5)
    man = make_manifest(view.subject_ids, "kfold", k=2, val_fraction=0.5)
    pool = EP.train_pool(view, man, archs=("mlp", "linear"), n_seeds=2, n_bag=2, n_aug=2, n_decor=2, hidden=8,
                        config=StackConfig(epochs=2, steps_per_epoch=3, batch_size=32, max_val=64), n_div=100, k=3)
    assert len(pool.members) == 2 * (4 * 2 + 2) and pool.logp_test[0].shape[2] == 5
    df = E.ensemble_table(pool, 2)
    assert {"single", "seed", "bagged", "greedy", "decor", "aug", "greedy-all", "pool-random"} <= set(df.ensemble)
    assert df.balanced_accuracy.between(0, 1).all() and (df.normalisation == "train-only").all()
    for f in pool.logp_test:
        np.testing.assert_allclose(np.exp(pool.logp_test[f]).sum(-1), 1.0, atol=1e-5)
        assert not set(pool.subj_test[f]) & set(man[f]["train"] + man[f]["val"])


def test_ensemble_larger_than_seed_pool_is_refused():
    """Controls must have the ensemble's size: a seed ensemble cannot be larger than the seeds trained."""
    with pytest.raises(ValueError, match="n_seeds"):
        E.ensemble_table(_toy_pool(), 50)


# ------------------------------------------------------------------------------ seeds as values (issue 24 item 4)
@pytest.fixture(scope="module")
def seedv_small(tmp_path_factory):
    from vaxis.decoding.folds import make_manifest
    from vaxis.eeg.seedv import load_seedv
    from vaxis.eeg.synthetic import make_seedv

    root = tmp_path_factory.mktemp("seedv_seeds")
    make_seedv(root, n_subjects=4, seed=0, n_windows=(3, 4), class_amp=1.0)
    view = EP.seedv_view(load_seedv(root))
    return view, make_manifest(view.subject_ids, "kfold", k=2, val_fraction=0.5)


def _seeded_pool(view, man, main, others):
    return EP.train_pool(view, man, archs=("mlp", "linear"), n_seeds=others, main_seeds=main, n_bag=1, n_aug=0,
                        n_decor=0, hidden=8, config=StackConfig(epochs=1, steps_per_epoch=2, batch_size=32,
                                                                max_val=64), n_div=50, k=2, folds=[0])


def test_pool_trains_exactly_the_seeds_it_is_given(seedv_small):
    view, man = seedv_small
    a = _seeded_pool(view, man, [5, 6], [5, 6])
    b = _seeded_pool(view, man, [0, 1], [0, 1])
    count = _seeded_pool(view, man, 2, 2)                                   # an int n still means seeds 0..n-1
    lab = lambda p, arch="mlp": p.members[(p.members.kind == "seed") & (p.members.arch == arch)]  # noqa: E731
    assert lab(a).seed.tolist() == [5, 6] == lab(a, "linear").seed.tolist() and lab(b).seed.tolist() == [0, 1]
    assert a.settings["main_seed_values"] == [5, 6] and a.settings["seeds"] == [5, 6]
    sel = lab(a).member.to_numpy()
    assert not np.allclose(a.logp_test[0][sel], b.logp_test[0][sel])       # other seeds, other models
    np.testing.assert_allclose(b.logp_test[0], count.logp_test[0], atol=1e-6)
    big = _seeded_pool(view, man, [12, 6], [5])                             # values beyond 9 are seeds too
    assert lab(big).seed.tolist() == [12, 6] and lab(big, "linear").seed.tolist() == [5]
    first = lab(big).member.iloc[1]                                         # seed 6 of the main arch: same model
    np.testing.assert_allclose(big.logp_test[0][first], a.logp_test[0][lab(a).member.iloc[1]], atol=1e-6)
    from vaxis.claims.ensemble.pool import seed_values

    with pytest.raises(ValueError, match="distinct"):
        seed_values([3, 3])


def test_member_seeds_never_collide():
    from vaxis.claims.ensemble.pool import KINDS, member_init

    keys = [member_init(0, a, f, k_, v) for a in range(4) for f in range(10) for k_ in KINDS
            for v in ([*range(10), 10, 11, 57, 999] if k_ == "seed" else range(10))]
    assert len(set(keys)) == len(keys)


# -------------------------------------------------------------- the comparator, fixed on validation subjects
def test_comparator_is_chosen_from_validation_numbers_only():
    from vaxis.claims.ensemble.jobs import validation_scores
    from vaxis.claims.ensemble.stats import choose_comparator

    jobs = pd.DataFrame({"task": ["9class"] * 3, "fold": [0, 1, 2],
                         "validation": [{"single": 0.40, "svm": 0.38}, {"single": 0.36, "svm": 0.39},
                                        {"single": 0.41, "svm": 0.37}],
                         "table": [{"subject_ba": [0.1, 0.2]}] * 3})
    val = validation_scores(jobs)
    assert val["9class"] == pytest.approx({"single": (0.40 + 0.36 + 0.41) / 3, "svm": (0.38 + 0.39 + 0.37) / 3})
    assert choose_comparator(val["9class"]) == "single"
    # test scores changed: the choice does not move (the function never sees them)
    jobs2 = jobs.assign(table=[{"subject_ba": [0.9, 0.95]}] * 3)
    assert choose_comparator(validation_scores(jobs2)["9class"]) == "single"
    # validation changed: it does
    jobs3 = jobs.assign(validation=[{"single": 0.30, "svm": 0.38}] * 3)
    assert choose_comparator(validation_scores(jobs3)["9class"]) == "svm"
    assert choose_comparator({"single": 0.4, "svm": 0.4}) == "svm"             # ties go to the prior method
    assert choose_comparator({"single": 0.4, "svm": float("nan")}) == "single"


# ------------------------------------------------------------------------ relative gains and their intervals
def test_relative_gain_estimate_and_coverage():
    """The relative interval covers the true ratio at about its level, with the control's BA itself noisy."""
    from vaxis.claims.ensemble.stats import paired_gain, ratio_bootstrap

    h0 = np.random.default_rng(0).uniform(0.3, 0.5, 50)
    est, se = ratio_bootstrap(h0, h0 / 1.1, np.arange(50), np.zeros(50), n_boot=300)
    assert est == pytest.approx(10.0) and se == pytest.approx(0.0, abs=1e-9)    # a constant ratio has no spread
    n, K, true = 30, 4, 10.0                       # crossed: every subject under every pool (fixed-split replicates)
    subj, clus = np.repeat(np.arange(n), K), np.tile(np.arange(K), n)
    cover = []
    for s in range(150):
        r = np.random.default_rng(100 + s)
        c = 0.35 + r.normal(0, 0.05, n)[subj] + r.normal(0, 0.01, K)[clus] + r.normal(0, 0.02, n * K)
        h = c * (1 + true / 100) + r.normal(0, 0.01, K)[clus] + r.normal(0, 0.02, n * K)
        g = paired_gain(pd.DataFrame({"cluster": clus, "subject": subj, "ba": h, "ba_c": c}), alpha=0.1, seed=s)
        assert g["gain_relative"] == pytest.approx(100 * (h.sum() / c.sum() - 1))
        cover.append(g["rel_ci_low"] <= true <= g["rel_ci_high"])
    assert 0.8 <= np.mean(cover) <= 1.0, np.mean(cover)          # nominal 0.9


def test_paired_gain_intervals_match_their_adjusted_p():
    from vaxis.claims.ensemble.stats import paired_gain

    rng = np.random.default_rng(3)
    subj, clus = np.repeat(np.arange(20), 3), np.tile(np.arange(3), 20)
    c = 0.35 + rng.normal(0, 0.04, 20)[subj] + rng.normal(0, 0.02, 60)
    for shift in (0.0, 0.004, 0.008, 0.012, 0.03):
        m = pd.DataFrame({"cluster": clus, "subject": subj, "ba_c": c, "ba": c + shift + rng.normal(0, 0.02, 60)})
        one, two = paired_gain(m, family=1), paired_gain(m, family=2)
        assert two["p_adj"] == pytest.approx(min(1.0, 2 * one["p"])) and two["ci_level"] == 0.975
        assert (two["ci_high"] - two["ci_low"]) > (one["ci_high"] - one["ci_low"])
        for g in (one, two):
            assert (g["ci_low"] > 0 or g["ci_high"] < 0) == (g["p_adj"] < 0.05)   # simultaneous, consistent
            assert g["rel_ci_low"] <= g["gain_relative"] <= g["rel_ci_high"]
            assert 0.5 < g["mde_relative"] / (g["mde_points"] / g["control_ba"]) < 2   # bootstrap vs t: same scale


# ------------------------------------------------------------------------------ cross-stimulus folds (issue 22)
def test_cross_stimulus_pool_never_trains_or_validates_on_a_test_clip(tmp_path, monkeypatch):
    from vaxis.decoding.folds import make_manifest
    from vaxis.decoding.training_data import prepare
    from vaxis.eeg.datasets import load_faced
    from vaxis.eeg.synthetic import make_faced

    make_faced(tmp_path, n_subjects=6, seed=0, kinds=("de",))
    eeg = load_faced(tmp_path, kind="de")
    view = prepare(eeg, task="9class", input="window", normalisation="train-only")
    man = make_manifest(view.subject_ids, "kfold", k=2, val_fraction=0.25, stimulus="unseen",
                        labels=list(map(int, eeg.labels)), clip_ids=list(map(int, eeg.clip_ids)))
    assert len(man) == 6 and all("test_clips" in f for f in man)
    seen = []
    orig = EP.train_stacked

    def spy(factory, n, X, y, tr_idx, va_idx, *a, **kw):
        seen.append((tr_idx, va_idx))
        return orig(factory, n, X, y, tr_idx, va_idx, *a, **kw)

    monkeypatch.setattr(EP, "train_stacked", spy)
    f = 4
    pool = EP.train_pool(view, man, archs=("mlp",), n_seeds=[3], n_bag=1, n_aug=1, n_decor=0, hidden=8,
                         config=StackConfig(epochs=1, steps_per_epoch=2, batch_size=32, max_val=64), n_div=50, k=2,
                         folds=[f])
    held = set(man[f]["test_clips"])
    clips, groups = np.asarray(view.clips), np.asarray(view.groups)
    test_pos = {view.subject_ids.index(s) for s in man[f]["test"]}
    for tr, va in seen:
        for ix in [*tr, *va]:
            ix = np.asarray(ix)
            ix = ix[ix < len(clips)]                                  # residual-mixed rows are built from train rows
            assert not held & set(clips[ix].tolist()) and not test_pos & set(groups[ix].tolist())
    n_test = np.isin(groups, list(test_pos)) & np.isin(clips, list(held))
    assert pool.logp_test[f].shape[1] == int(n_test.sum())          # scored on the held-out clips only


def test_fold_job_records_the_seeds_it_trained_and_its_validation_scores(tmp_path):
    """Chapter 8's job: seeds [5, 6] train other models than [0, 1], and its record says [5, 6]."""
    from vaxis.claims.ensemble.jobs import EnsembleJob, fold_job
    from vaxis.eeg.datasets import load_faced
    from vaxis.eeg.synthetic import make_faced

    make_faced(tmp_path / "f6", n_subjects=6, seed=0, kinds=("de",))
    eeg = load_faced(tmp_path / "f6", kind="de")
    kw = dict(task="binary", design=FoldDesign(n_folds=3, val_fraction=0.25), archs=["mlp"], n_bag=2,
              ensemble_size=2, device="cpu", svm_val_tasks=["binary"],
              stack=StackConfig(epochs=1, steps_per_epoch=2, batch_size=64, max_val=128))
    a, b = (fold_job(EnsembleJob.for_cohort(eeg, None, str(tmp_path), main_seeds=v, pool_seeds=v, **kw).config())
            for v in ([5, 6], [0, 1]))
    assert a["settings"]["main_seed_values"] == [5, 6] and b["settings"]["main_seed_values"] == [0, 1]
    mem = pd.DataFrame(a["members"])
    assert mem[mem.kind == "seed"].seed.tolist() == [5, 6]
    ta, tb = pd.DataFrame(a["table"]), pd.DataFrame(b["table"])
    differ = [not np.allclose(ta.balanced_accuracy, tb.balanced_accuracy),
              not np.allclose(mem.val_ba, pd.DataFrame(b["members"]).val_ba)]
    assert any(differ)                                                      # other seeds, other results
    assert set(a["validation"]) == {"single", "svm"} and all(0 <= v <= 1 for v in a["validation"].values())


def test_single_model_validation_score_is_not_inflated_by_its_choice():
    """The single model is chosen on one half of the validation subjects and scored on the other."""
    from vaxis.claims.ensemble.jobs import single_validation_ba, validation_halves

    pool = _toy_pool()
    y = np.arange(60) % 3
    pool.y_val[0], pool.subj_val[0] = y, np.repeat(["s1", "s2"], 30)
    good, bad = np.log(np.eye(3)[y] * 0.98 + 0.01), np.log(np.eye(3)[(y + 1) % 3] * 0.98 + 0.01)
    lv = np.log(np.full((len(pool.members[pool.members.fold == 0]), 60, 3), 1 / 3))
    lv[:, :, 0] += 1e-3                                                   # every other member: always class 0
    lv[0, :30], lv[0, 30:] = good[:30], bad[30:]                          # member 0: perfect on s1, wrong on s2
    lv[1, :30], lv[1, 30:] = bad[:30], good[30:]                          # member 1: the reverse
    pool.logp_val[0] = lv
    assert validation_halves(["s2", "s1"]) == (["s1"], ["s2"]) and validation_halves(["a"]) == (["a"], ["a"])
    assert single_validation_ba(pool, 0, ["s1"], ["s2"]) == pytest.approx(0.0)   # member 0, scored on s2
    assert single_validation_ba(pool, 0, ["s2"], ["s1"]) == pytest.approx(0.0)   # member 1, scored on s1
    assert single_validation_ba(pool, 0, ["s1"], ["s1"]) == pytest.approx(1.0)   # the inflated reading
