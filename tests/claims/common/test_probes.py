"""Rediscovery probes find a planted V direction, not a shuffled one; honest re-fit null; closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.linear_model import Ridge

from vaxis.claims.common.probes import _ridge_onehot, _spearman_cols, make_maps, probe_scores, summarise

POS = np.array([-0.9, -0.7, -0.8, -0.6, 0.0, 0.5, 0.7, 0.8, 0.6])
CLIP_CAT = np.array([0] * 3 + [1] * 3 + [2] * 3 + [3] * 3 + [4] * 4 + [5] * 3 + [6] * 3 + [7] * 3 + [8] * 3)


def _reps(n_sub=20, d=12, v_amp=1.0, seed=0):
    rng = np.random.default_rng(seed)
    cat = np.tile(CLIP_CAT, n_sub)
    subject = np.repeat(np.arange(n_sub), 28)
    direction = rng.normal(size=d)
    ident = rng.normal(size=(9, d)) * 0.3                                        # category identity, not valence
    rep = v_amp * POS[cat][:, None] * direction + ident[cat] + rng.normal(size=(len(cat), d))
    return rep, cat, subject


def _folds(rep, cat, subject, maps, k=4):
    subs = np.unique(subject)
    return [probe_scores(rep, cat, subject, maps, test) for test in np.array_split(subs, k)]


def test_finds_planted_direction():
    rep, cat, subject = _reps()
    res = summarise(_folds(rep, cat, subject, make_maps(POS, 200, seed=1)))
    for name in ("ridge", "centroid_pc1", "loco"):
        assert res[name]["score"] > 0.5, name
        assert res[name]["p"] < 0.02, name


def test_does_not_find_shuffled_representations():
    rep, cat, subject = _reps()
    rng = np.random.default_rng(3)
    shuffled = rep[rng.permutation(len(rep))]                                     # rows no longer match units
    res = summarise(_folds(shuffled, cat, subject, make_maps(POS, 200, seed=1)))
    for name in ("ridge", "loco"):
        assert res[name]["p"] > 0.05, name
        assert abs(res[name]["score"]) < 0.3, name


def test_category_identity_alone_is_not_rediscovery():
    # strong category separation, no valence: the re-fit null must absorb the ridge's fit
    rep, cat, subject = _reps(v_amp=0.0)
    res = summarise(_folds(rep, cat, subject, make_maps(POS, 200, seed=2)))
    assert res["ridge"]["p"] > 0.05 and res["loco"]["p"] > 0.05


def test_ridge_matches_sklearn_and_spearman_matches_scipy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    cat = rng.integers(0, 9, 60)
    coef, mx, my = _ridge_onehot(X, cat, 0.1, 9)
    sk = Ridge(alpha=0.1 * 60).fit(X, POS[cat])
    assert np.allclose((X - mx) @ coef @ POS + my @ POS, sk.predict(X), atol=1e-10)
    a, b = rng.normal(size=(28, 4)), np.repeat(POS[CLIP_CAT][:, None], 4, 1)
    for j in range(4):
        assert _spearman_cols(a, b)[j] == pytest.approx(spearmanr(a[:, j], b[:, j]).statistic)


def test_maps_are_permutations_with_truth_first():
    maps = make_maps(POS, 50, seed=0)
    assert maps.shape == (9, 51) and np.array_equal(maps[:, 0], POS)
    assert all(sorted(maps[:, j]) == sorted(POS) for j in range(51))
