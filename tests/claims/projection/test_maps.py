"""Chapter 4's cross-subject map: ridge / PLS vs scikit-learn, vectorised nulls vs refits, planted recovery."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.linear_model import Ridge

from vaxis.claims.common.vmap import clip_features, fit_full_map, ridge_predict
from vaxis.claims.projection.maps import (
    _pls1_predict,
    evaluate_projection,
    llm_vs_human,
    rating_projection,
)
from vaxis.decoding.folds import index_folds
from vaxis.eeg.datasets import FACED_LABELS, load_faced
from vaxis.eeg.synthetic import TRUE_VALENCE, make_faced
from vaxis.stats import random_permutations


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    d = tmp_path_factory.mktemp("faced4")
    gt = make_faced(d, n_subjects=10, seed=3, kinds=("de", "ratings"))
    e = load_faced(d, use_cache=False)
    return clip_features(e.x), e, gt


def test_ridge_and_pls_match_sklearn():
    rng = np.random.default_rng(0)
    X, Y, Xte = rng.standard_normal((60, 8)), rng.standard_normal((60, 3)), rng.standard_normal((7, 8))
    pred = ridge_predict(X, Y, Xte, np.array([0.5, 30.0]))
    for i, a in enumerate([0.5, 30.0]):
        np.testing.assert_allclose(pred[i], Ridge(alpha=a).fit(X, Y).predict(Xte), atol=1e-8)
    pls = PLSRegression(n_components=1, scale=False).fit(X, Y[:, 0]).predict(Xte).ravel()
    np.testing.assert_allclose(_pls1_predict(X, Y[:, :1], Xte)[:, 0], pls, atol=1e-8)


def test_folds_are_subject_disjoint_and_cover():
    folds = index_folds(23, 10)
    allidx = np.concatenate(folds)
    assert sorted(allidx.tolist()) == list(range(23)) and len(folds) == 10
    perms = random_permutations(50, 9, seed=1, identity="excluded")
    assert perms.shape == (50, 9) and not any(np.array_equal(p, np.arange(9)) for p in perms)


def test_clip_features_per_subject_zscore(synth):
    f, e, _ = synth
    assert f.shape == (10, 28, 150)
    np.testing.assert_allclose(f.mean(1), 0, atol=1e-6)
    raw = e.x[2, :, 4, :, 1].mean(-1)
    np.testing.assert_allclose(f[2, :, 4 * 5 + 1], (raw - raw.mean()) / raw.std(), atol=1e-5)


def test_honest_null_column_equals_refit_with_permuted_positions(synth):
    f, e, _ = synth
    res = evaluate_projection(f, e.labels, TRUE_VALENCE, n_perm=5, n_folds=5, seed=4)
    perm = res["perms"][2]
    refit = evaluate_projection(f, e.labels, TRUE_VALENCE[perm], n_perm=1, n_folds=5, seed=4)
    assert abs(res["null_honest"][2] - refit["mean_rho"]) < 1e-9


def test_planted_valence_recovered_and_beats_honest_null(synth):
    f, e, gt = synth
    res = evaluate_projection(f, e.labels, TRUE_VALENCE, n_perm=40, n_folds=5, seed=0)
    assert res["mean_rho"] > 0.7 and res["p_honest"] < 0.05 and res["p_eval_only"] < 0.05
    assert len(res["rho"]) == 10 and res["ci"][0] < res["mean_rho"] < res["ci"][1]
    m = fit_full_map(f, e.labels, TRUE_VALENCE, n_folds=5)
    assert np.corrcoef(m["pattern"], gt["pattern"].ravel())[0, 1] > 0.7
    # a shuffled order (uncorrelated with the planted valence) does not give the planted pattern
    shuffled = TRUE_VALENCE[[4, 5, 0, 7, 1, 3, 8, 2, 6]]
    assert abs(np.corrcoef(shuffled, TRUE_VALENCE)[0, 1]) < 0.3
    ms = fit_full_map(f, e.labels, shuffled, n_folds=5)
    assert abs(np.corrcoef(ms["pattern"], gt["pattern"].ravel())[0, 1]) < 0.5


def test_no_signal_is_not_significant():
    rng = np.random.default_rng(0)
    f = rng.standard_normal((12, 28, 20))
    res = evaluate_projection(f, FACED_LABELS, TRUE_VALENCE, n_perm=40, n_folds=4, seed=1)
    assert res["p_honest"] > 0.05 and abs(res["mean_rho"]) < 0.2
    loco = evaluate_projection(f, FACED_LABELS, TRUE_VALENCE, n_perm=20, n_folds=4, loco=True, seed=1)
    assert np.isfinite(loco["pred"]).all() and loco["p_honest"] > 0.05


def test_ratings_and_llm_vs_human(synth):
    f, e, _ = synth
    r = rating_projection(f, e.valence(), n_folds=5)
    assert r["rho"].shape == (10,) and r["mean_rho"] > 0.5
    h = llm_vs_human(TRUE_VALENCE, e.valence(), e.labels, n_boot=200)
    exp = np.array([e.valence()[:, e.labels == k].mean() for k in range(9)])
    np.testing.assert_allclose(h["human_mean"], exp, rtol=1e-6)
    assert h["spearman"] > 0.9


def test_loco_on_noise_features_scores_near_zero():
    """Without the intercept fix LOCO gives rho ~ -0.92 on pure noise (and its null ~ -0.94)."""
    rng = np.random.default_rng(7)
    noise = rng.normal(size=(30, 28, 12))
    out = evaluate_projection(noise, FACED_LABELS, TRUE_VALENCE, n_perm=50, n_folds=5, loco=True, seed=0)
    assert abs(out["mean_rho"]) < 0.15, out["mean_rho"]
    assert abs(out["null_honest_mean"]) < 0.15, out["null_honest_mean"]
    assert out["p_honest"] > 0.05


@pytest.mark.parametrize("kind", ["clip", "valence"])
def test_cross_stimulus_map_cannot_score_by_recognising_the_clip(kind):
    """Planted clip identity (each clip its own pattern, nothing shared by a category): the cross-subject map tracks
    the positions, the cross-stimulus one falls to about 0. Planted valence (one pattern scaled by the position):
    both track it."""
    from vaxis.eeg.faced import clip_folds

    rng = np.random.default_rng(2)
    n_s, n_f = 20, 12
    if kind == "clip":
        sig = rng.normal(size=(28, n_f)) * 1.5
    else:
        sig = np.outer(TRUE_VALENCE[FACED_LABELS], rng.normal(size=n_f))
    feats = rng.normal(size=(n_s, 28, n_f)) + sig[None]
    cf = np.zeros(28, int)
    for j, fold in enumerate(clip_folds(FACED_LABELS)):
        cf[np.asarray(fold) - 1] = j
    seen = evaluate_projection(feats, FACED_LABELS, TRUE_VALENCE, n_perm=20, n_folds=5, seed=0)
    unseen = evaluate_projection(feats, FACED_LABELS, TRUE_VALENCE, n_perm=20, n_folds=5, seed=0, clip_fold=cf)
    assert seen["protocol"] == "cross-subject" and unseen["protocol"] == "cross-stimulus"
    assert np.isfinite(unseen["pred"]).all() and unseen["n_clusters"] == 5
    assert seen["mean_rho"] > 0.3 and seen["ci"][0] > 0.2
    if kind == "clip":
        assert abs(unseen["mean_rho"]) < 0.15 and unseen["ci"][0] < 0.05, unseen["mean_rho"]
    else:
        assert unseen["mean_rho"] > 0.5 and unseen["ci"][0] > 0.3
