"""Rediscovery probes: does a label-trained decoder's representation order the 9 categories by the V-axis?

Inputs are per-unit representations (one row per subject x clip, e.g. the mean penultimate activation of
the clip's windows), each unit's 9-class category and subject. Three probes, each scored on *held-out*
subjects and compared with a permutation null that **re-fits** under shuffled category-to-position maps
(the honest null of chapter 4; a null that shuffles only at evaluation is not used):

``ridge``
    1-D ridge readout of the unit's V-axis position, fitted on training subjects; score = Spearman between
    prediction and position across each held-out subject's clips, averaged over held-out subjects.
``centroid_pc1``
    First principal axis of the 9 class centroids (training subjects); its sign is oriented on the training
    centroids (positive Spearman with the map being tested, so the null orients the same way); score = Spearman
    between held-out subjects' centroids projected on it and the 9 positions.
``loco``
    Leave-one-category-out: a ridge fitted on 8 categories predicts the held-out category's position (mean
    over held-out subjects' units, as a deviation from the training categories' mean); score = Spearman of the
    9 out-of-category predictions with the positions.
    An arbitrary ordering cannot be extrapolated to an unseen category, so this separates a valence axis from
    mere category separability.

Every readout is linear in the target, so a ridge is solved once per design, for the 9 one-hot category
targets, and all maps (true + ``n_perm`` shuffles) are read out by one matrix product.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata
from threadpoolctl import threadpool_limits

from vaxis.stats import permutation_pvalue, random_permutations

__all__ = ["make_maps", "probe_scores", "summarise", "class_centroids", "PROBES"]

PROBES = ("ridge", "centroid_pc1", "loco")


def make_maps(positions: Sequence[float], n_perm: int = 1000, seed: int = 0) -> np.ndarray:
    """Column 0 = the true positions, columns 1.. = the positions shuffled across categories.

    Returns
    -------
    ndarray, shape (9, 1 + n_perm)
    """
    pos = np.asarray(positions, dtype=float)
    perms = random_permutations(n_perm, len(pos), seed, identity="allowed")
    return np.column_stack([pos, pos[perms].T]) if n_perm else pos[:, None]


def _unit_ranks(a: np.ndarray, ties: bool = True) -> np.ndarray:
    """Column-wise ranks, centred and scaled to unit norm (a constant column becomes NaN).

    ``ties=True``: average ranks (scipy); ``ties=False``: ordinal ranks by one argsort, 3x faster, for continuous
    values (a probe's predictions), where exact ties do not occur.
    """
    if ties:
        r = rankdata(a, axis=0)
    else:
        order = np.argsort(a, axis=0)
        r = np.empty(a.shape)
        np.put_along_axis(r, order, np.arange(a.shape[0], dtype=float)[:, None], axis=0)
    r = r - r.mean(0)
    norm = np.sqrt((r ** 2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, r / np.where(norm > 0, norm, 1.0), np.nan)


def _spearman_cols(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Column-wise Spearman of (n, k) arrays (average ranks for ties); NaN for a constant column. ``b`` of shape
    (n, 1) or (n,) is compared with every column of ``a``."""
    b = np.asarray(b)
    rb = _unit_ranks(b if b.ndim == 2 else b[:, None])
    return (_unit_ranks(a) * rb).sum(0)


def _ridge_onehot(X: np.ndarray, cat: np.ndarray, alpha: float,
                  n_cat: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ridge from X (n, d) to the one-hot category targets: coef (d, 9), X mean (d,), target mean (9,)."""
    mx = X.mean(0)
    Y = np.eye(n_cat)[cat]
    my = Y.mean(0)
    Xc = X - mx
    d = X.shape[1]
    coef = np.linalg.solve(Xc.T @ Xc + alpha * len(X) * np.eye(d), Xc.T @ (Y - my))
    return coef, mx, my


def probe_scores(rep: np.ndarray, *args, **kwargs) -> dict[str, np.ndarray]:
    """Score the three probes (see :func:`_probe_scores`) with one BLAS thread.

    The matrices are small; multi-threaded OpenBLAS on a busy shared machine is up to ~100x slower.
    """
    with threadpool_limits(1):
        return _probe_scores(rep, *args, **kwargs)


def _probe_scores(rep: np.ndarray, category: np.ndarray, subject: np.ndarray, maps: np.ndarray,
                 test_subjects: Sequence[int], alpha: float = 1e-2) -> dict[str, np.ndarray]:
    """Score the three probes for the true map and every shuffled map of one model / fold.

    Parameters
    ----------
    rep : ndarray, shape (n_units, d)
    category : ndarray, shape (n_units,), ints 0..8
    subject : ndarray, shape (n_units,)
    maps : ndarray, shape (9, n_maps)
        From :func:`make_maps` (column 0 = true positions).
    test_subjects : sequence
        Subjects held out from the probe fit (the decoder's own test fold); the rest fit the probes.
    alpha : float
        Ridge penalty per unit (features are z-scored on the training units first).

    Returns
    -------
    dict probe -> ndarray, shape (n_maps,)
    """
    n_cat = maps.shape[0]
    te = np.isin(subject, np.asarray(test_subjects))
    tr = ~te
    mu, sd = rep[tr].mean(0), rep[tr].std(0) + 1e-8
    X = (rep - mu) / sd
    cat = np.asarray(category)
    out = {}
    coef, mx, my = _ridge_onehot(X[tr], cat[tr], alpha, n_cat)
    scores, truth = [], {}
    for s in np.unique(subject[te]):
        m = te & (subject == s)
        key = cat[m].tobytes()
        if key not in truth:                          # the same clips -> the same target ranks under every map
            truth[key] = _unit_ranks(maps[cat[m]])
        pred = ((X[m] - mx) @ coef + my) @ maps                                 # (units of s, n_maps)
        scores.append((_unit_ranks(pred, ties=False) * truth[key]).sum(0))
    out["ridge"] = np.nanmean(np.array(scores), axis=0)
    cen_tr = np.stack([X[tr & (cat == c)].mean(0) for c in range(n_cat)])
    cen_te = np.stack([X[te & (cat == c)].mean(0) for c in range(n_cat)])
    _, _, vt = np.linalg.svd(cen_tr - cen_tr.mean(0), full_matrices=False)
    pc1 = vt[0]
    map_ranks = _unit_ranks(maps)
    sign = np.sign((map_ranks * _unit_ranks((cen_tr @ pc1)[:, None])).sum(0))
    sign[sign == 0] = 1
    out["centroid_pc1"] = sign * (map_ranks * _unit_ranks((cen_te @ pc1)[:, None])).sum(0)
    loco = np.zeros((n_cat, maps.shape[1]))
    for c in range(n_cat):
        fit = tr & (cat != c)
        coef_c, mx_c, my_c = _ridge_onehot(X[fit], cat[fit], alpha, n_cat)
        # deviation from the 8 training categories' mean (no intercept): with the intercept, a signal-free
        # representation predicts the mean of the *other* categories, anti-correlated with the held-out one
        loco[c] = ((X[te & (cat == c)] - mx_c) @ coef_c).mean(0) @ maps
    out["loco"] = (_unit_ranks(loco) * map_ranks).sum(0)
    return out


def summarise(per_fold: Sequence[dict[str, np.ndarray]]) -> dict[str, dict[str, float]]:
    """Average a model's per-fold probe scores and test the mean against the re-fit null.

    The null of the fold-averaged score uses the same shuffled map in every fold (column j of each fold).

    Returns
    -------
    dict probe -> {score, null_mean, null_sd, z, p, n_folds, n_perm}
    """
    out = {}
    for name in per_fold[0]:
        arr = np.nanmean(np.stack([f[name] for f in per_fold]), axis=0)
        obs, null = float(arr[0]), arr[1:]
        sd = float(np.nanstd(null))
        out[name] = {"score": obs, "null_mean": float(np.nanmean(null)), "null_sd": sd,
                     "z": (obs - float(np.nanmean(null))) / sd if sd > 0 else float("nan"),
                     "p": permutation_pvalue(obs, null), "n_folds": len(per_fold), "n_perm": int(null.size)}
    return out


def class_centroids(rep: np.ndarray, category: np.ndarray, subject: np.ndarray,
                    test_subjects: Sequence[int], n_cat: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Class centroids of training and held-out units, features z-scored on the training units.

    Parameters
    ----------
    rep : ndarray, shape (n_units, d)
    category : ndarray, shape (n_units,), ints 0..n_cat-1
    subject : ndarray, shape (n_units,)
    test_subjects : sequence
        Held-out subjects; the other units are the training units.

    Returns
    -------
    cen_train, cen_test : ndarray, shape (n_cat, d)
    """
    te = np.isin(subject, np.asarray(test_subjects))
    X = (rep - rep[~te].mean(0)) / (rep[~te].std(0) + 1e-8)
    cat = np.asarray(category)
    return (np.stack([X[~te & (cat == c)].mean(0) for c in range(n_cat)]),
            np.stack([X[te & (cat == c)].mean(0) for c in range(n_cat)]))
